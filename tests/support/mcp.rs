//! A minimal MCP client for tests and the bench: `mam mcp` as a child
//! process, JSON-RPC lines over its stdin/stdout. Requests may be written
//! ahead (`send`) and their responses read later (`response`), so several
//! calls can be in flight at once.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value, json};

pub struct McpClient {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    /// Responses read while looking for another one, by id.
    early: HashMap<u64, Value>,
}

impl McpClient {
    /// Start `cmd` (a `mam` command with the `mcp` argument) without the
    /// MCP handshake.
    pub fn spawn(mut cmd: Command) -> McpClient {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mam mcp");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        McpClient {
            child,
            stdin,
            stdout,
            next_id: 1,
            early: HashMap::new(),
        }
    }

    /// Start it and do the handshake; returns the client and the
    /// `initialize` result.
    pub fn start(cmd: Command) -> (McpClient, Value) {
        let mut c = McpClient::spawn(cmd);
        let init = c.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "mam-test", "version": "1"}}),
        );
        c.notify("notifications/initialized");
        (c, init)
    }

    fn write(&mut self, v: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{v}").unwrap();
        stdin.flush().unwrap();
    }

    pub fn notify(&mut self, method: &str) {
        self.write(&json!({"jsonrpc": "2.0", "method": method}));
    }

    /// Write a request; returns its id.
    pub fn send(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.write(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// The whole response to request `id` (`result` or `error`).
    pub fn response(&mut self, id: u64) -> Value {
        if let Some(v) = self.early.remove(&id) {
            return v;
        }
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).unwrap();
            assert!(n > 0, "mam mcp closed its stdout before answering {id}");
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("mam mcp wrote a non-JSON line {line:?}: {e}"));
            match v["id"].as_u64() {
                Some(got) if got == id => return v,
                Some(other) => {
                    self.early.insert(other, v);
                }
                None => {} // a notification
            }
        }
    }

    /// A request's `result` (panics on a JSON-RPC error).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params);
        let v = self.response(id);
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }

    /// `tools/call` of `name` with `args`: the tool result.
    pub fn call(&mut self, name: &str, args: Value) -> Value {
        self.request("tools/call", json!({"name": name, "arguments": args}))
    }

    /// Write one raw line, as given (it need not be JSON, nor UTF-8).
    pub fn write_raw(&mut self, line: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// The next line the server writes, parsed.
    pub fn next_line(&mut self) -> Value {
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "mam mcp closed its stdout");
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("mam mcp wrote a non-JSON line {line:?}: {e}"))
    }

    /// Write one raw line and read the next line the server writes.
    pub fn exchange_raw(&mut self, line: &[u8]) -> Value {
        self.write_raw(line);
        self.next_line()
    }

    /// Close stdin and wait for the server to exit; its exit code and stderr.
    pub fn finish(mut self) -> (Option<i32>, String) {
        drop(self.stdin.take());
        let out = self.child.wait().unwrap();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        (out.code(), err)
    }
}

impl Drop for McpClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
