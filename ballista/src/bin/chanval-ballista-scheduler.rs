//! A Ballista scheduler that knows `chanval_match`:
//! `chanval-ballista-scheduler --schema S --content C [--host 127.0.0.1] [--port 50050]`.

use std::sync::Arc;

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

fn main() -> std::process::ExitCode {
    chanval_ballista::run_process(
        "chanval-ballista-scheduler",
        "--schema S --content C [--host H] [--port P]",
        |udf, args| async move {
            let host =
                chanval_ballista::flag(&args, "--host").unwrap_or_else(|| "127.0.0.1".into());
            let port = chanval_ballista::port(&args, "--port", 50050)?;
            let mut config = SchedulerConfig::default()
                .with_hostname(host.clone())
                .with_port(port);
            config.override_session_builder = Some(Arc::new(move |session_config| {
                chanval_ballista::session_state(session_config, &udf)
            }));
            let address = format!("{host}:{port}")
                .parse()
                .map_err(|e| format!("--host {host}: {e}"))?;
            let cluster = BallistaCluster::new_from_config(&config)
                .await
                .map_err(|e| e.to_string())?;
            start_server(cluster, address, Arc::new(config))
                .await
                .map_err(|e| e.to_string())
        },
    )
}
