//! A Ballista executor that runs `chanval_match`:
//! `chanval-ballista-executor --schema S --content C [--scheduler-port 50050] [--port 50051]
//! [--grpc-port 50052] [--work-dir D]`.

use std::path::PathBuf;
use std::sync::Arc;

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| chanval_ballista::flag(&args, name);
    let (Some(schema), Some(content)) = (flag("--schema"), flag("--content")) else {
        eprintln!(
            "usage: chanval-ballista-executor --schema S --content C [--scheduler-host H] \
             [--scheduler-port P] [--port P] [--grpc-port P] [--work-dir D]"
        );
        return std::process::ExitCode::from(2);
    };
    let port = |name: &str, default: u16| -> Result<u16, String> {
        flag(name).map_or(Ok(default), |p| {
            p.parse().map_err(|_| format!("{name} is a port number"))
        })
    };
    let ports = (|| {
        Ok::<_, String>((
            port("--scheduler-port", 50050)?,
            port("--port", 50051)?,
            port("--grpc-port", 50052)?,
        ))
    })();
    let (scheduler_port, flight_port, grpc_port) = match ports {
        Ok(p) => p,
        Err(e) => {
            eprintln!("chanval-ballista-executor: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let udf = match chanval_ballista::chanval_match(&PathBuf::from(schema), &PathBuf::from(content))
    {
        Ok(u) => u,
        Err(e) => {
            eprintln!("chanval-ballista-executor: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let config = ExecutorProcessConfig {
        bind_host: "127.0.0.1".into(),
        external_host: Some("127.0.0.1".into()),
        scheduler_host: flag("--scheduler-host").unwrap_or_else(|| "127.0.0.1".into()),
        scheduler_port,
        port: flight_port,
        grpc_port,
        work_dir: flag("--work-dir"),
        vcores: 1,
        executor_heartbeat_interval_seconds: 1,
        override_function_registry: Some(Arc::new(chanval_ballista::function_registry(&udf))),
        ..ExecutorProcessConfig::default()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 << 20)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("chanval-ballista-executor: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match runtime.block_on(start_executor_process(Arc::new(config))) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chanval-ballista-executor: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
