//! A Ballista scheduler that knows `chanval_match`:
//! `chanval-ballista-scheduler --schema S --content C [--host 127.0.0.1] [--port 50050]`.

use std::path::PathBuf;
use std::sync::Arc;

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(schema), Some(content)) = (
        chanval_ballista::flag(&args, "--schema"),
        chanval_ballista::flag(&args, "--content"),
    ) else {
        eprintln!("usage: chanval-ballista-scheduler --schema S --content C [--host H] [--port P]");
        return std::process::ExitCode::from(2);
    };
    let host = chanval_ballista::flag(&args, "--host").unwrap_or_else(|| "127.0.0.1".into());
    let port: u16 = match chanval_ballista::flag(&args, "--port").map(|p| p.parse()) {
        None => 50050,
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            eprintln!("chanval-ballista-scheduler: --port is a port number");
            return std::process::ExitCode::from(2);
        }
    };
    let udf = match chanval_ballista::chanval_match(&PathBuf::from(schema), &PathBuf::from(content))
    {
        Ok(u) => u,
        Err(e) => {
            eprintln!("chanval-ballista-scheduler: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 << 20)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("chanval-ballista-scheduler: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        let mut config = SchedulerConfig::default()
            .with_hostname(host.clone())
            .with_port(port);
        config.override_session_builder = Some(Arc::new(move |session_config| {
            chanval_ballista::session_state(session_config, &udf)
        }));
        let address = format!("{host}:{port}")
            .parse()
            .map_err(|e| ballista_core::error::BallistaError::General(format!("{e}")))?;
        let cluster = BallistaCluster::new_from_config(&config).await?;
        start_server(cluster, address, Arc::new(config)).await
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chanval-ballista-scheduler: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
