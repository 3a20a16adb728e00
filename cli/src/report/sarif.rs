//! SARIF 2.1.0: one run, one rule per diagnostic code, one result per finding, located by byte
//! offset and length in the channel file (SARIF's binary region), plus logical locations for the
//! instance, field and profile.

use chanval::Code;
use serde_json::{Value, json};

use super::{FindingOut, Report};

fn level(severity: &str) -> &'static str {
    if severity == "error" {
        "error"
    } else {
        "warning"
    }
}

fn result(path: &str, f: &FindingOut, rule_index: usize) -> Value {
    let l = &f.location;
    let mut physical = json!({ "artifactLocation": { "uri": path } });
    if let (Some(s), Some(e)) = (l.byte_start, l.byte_end) {
        physical["region"] = json!({ "byteOffset": s, "byteLength": e.saturating_sub(s) });
    }
    let mut logical = Vec::new();
    if let Some(id) = l.instance_id {
        logical.push(json!({ "name": format!("instance {id}"), "kind": "object" }));
    }
    if let Some(i) = l.field_index {
        let name = l
            .field
            .clone()
            .unwrap_or_else(|| format!("field index {i}"));
        logical.push(json!({ "name": name, "kind": "member" }));
    }
    let mut location = json!({ "physicalLocation": physical });
    if !logical.is_empty() {
        location["logicalLocations"] = Value::Array(logical);
    }
    json!({
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": f.message },
        "locations": [location],
        "properties": {
            "instanceIndex": l.instance_index,
            "instanceId": l.instance_id,
            "templateTypeId": l.template_type_id,
            "templateType": l.template_type,
            "fieldIndex": l.field_index,
            "field": l.field,
            "profile": l.profile,
        }
    })
}

pub fn render(report: &Report) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": format!("{c:?}"),
                "shortDescription": { "text": c.title() },
                "defaultConfiguration": { "level": level(c.severity().name()) },
            })
        })
        .collect();
    let rule_index = |code: &str| {
        Code::ALL
            .iter()
            .position(|c| c.as_str() == code)
            .unwrap_or(0)
    };
    let results: Vec<Value> = report
        .files
        .iter()
        .flat_map(|file| {
            file.findings
                .iter()
                .map(move |f| result(&file.path, f, rule_index(f.code)))
        })
        .collect();
    let artifacts: Vec<Value> = report
        .files
        .iter()
        .map(|f| json!({ "location": { "uri": f.path } }))
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "chanval",
                "version": report.tool.version,
                "rules": rules,
            }},
            "artifacts": artifacts,
            "results": results,
        }]
    })
}
