//! A Ballista executor that runs `chanval_match`:
//! `chanval-ballista-executor --schema S --content C [--scheduler-host H] [--scheduler-port P]
//! [--bind-host A] [--external-host H] [--port P] [--grpc-port P] [--work-dir D]`.

use std::sync::Arc;

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use chanval_ballista::{flag, port};

fn main() -> std::process::ExitCode {
    chanval_ballista::run_process(
        "chanval-ballista-executor",
        "--schema S --content C [--scheduler-host H] [--scheduler-port P] [--bind-host A] \
         [--external-host H] [--port P] [--grpc-port P] [--work-dir D]",
        |udf, args| async move {
            // Loopback unless told: an executor on another machine binds an interface the
            // scheduler reaches, and says under which name.
            let bind = flag(&args, "--bind-host").unwrap_or_else(|| "127.0.0.1".into());
            let config = ExecutorProcessConfig {
                external_host: Some(flag(&args, "--external-host").unwrap_or_else(|| bind.clone())),
                bind_host: bind,
                scheduler_host: flag(&args, "--scheduler-host")
                    .unwrap_or_else(|| "127.0.0.1".into()),
                scheduler_port: port(&args, "--scheduler-port", 50050)?,
                port: port(&args, "--port", 50051)?,
                grpc_port: port(&args, "--grpc-port", 50052)?,
                work_dir: flag(&args, "--work-dir"),
                vcores: 1,
                executor_heartbeat_interval_seconds: 1,
                override_function_registry: Some(Arc::new(chanval_ballista::function_registry(
                    &udf,
                ))),
                ..ExecutorProcessConfig::default()
            };
            start_executor_process(Arc::new(config))
                .await
                .map_err(|e| e.to_string())
        },
    )
}
