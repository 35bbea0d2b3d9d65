//! A TCP proxy between the app and PostgreSQL that a test can cut and restore, to play a
//! database outage without stopping the server that other tests share.

use std::net::SocketAddr;
use std::sync::Mutex;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    upstream: String,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl TcpProxy {
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("bound address");
        let proxy = Self { addr, upstream: upstream.to_owned(), task: Mutex::new(None) };
        proxy.run(listener);
        proxy
    }

    /// `host:port` to connect through.
    #[must_use]
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// Closes the port and every connection through it: the database is gone.
    pub fn cut(&self) {
        if let Some(task) = self.task.lock().unwrap().take() {
            task.abort();
        }
    }

    /// Opens the port again: the database is back.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(self.addr).await.expect("the proxy's port is free again");
        self.run(listener);
    }

    fn run(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let task = tokio::spawn(async move {
            // Owned by this task: aborting it drops every connection.
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                connections.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
