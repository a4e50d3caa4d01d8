//! What crosses between weft and a worker: attempts, outcomes and file contents, as JSON.
//!
//! The compiler's types (`ast::Param`, `Value`, …) carry spans and expressions a remote
//! attempt has no use for, so they travel as the plain shapes below and are rebuilt on the
//! other side with empty spans. The ssh worker speaks [`ToWorker`] / [`FromWorker`], one JSON
//! object per line; the Slurm worker reads one [`WireAttempt`] from a file and writes one
//! [`WireOutcome`] to another.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use weft_compiler::ast::{self, Direction, Ident, Modifier, ReturnType, Span, Stream, Type};
use weft_compiler::value::Value;

use crate::attempt::{AttemptOutcome, AttemptSpec, BodySpec, ContainerEngine, NodeInfo};

/// Bumped whenever a message changes shape: weft refuses a worker of another version.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest piece of a file sent in one message (before base64).
pub const BLOB_CHUNK: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Attempts

/// An [`AttemptSpec`] as it travels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireAttempt {
    pub task_name: String,
    pub task_id: u64,
    pub attempt: u32,
    pub params: Vec<WireParam>,
    pub returns: Option<WireReturns>,
    pub values: Vec<(String, WireValue)>,
    pub body: WireBody,
    pub env: Vec<(String, String)>,
    pub workdir: PathBuf,
    pub timeout_ms: Option<u64>,
    pub fail_on_exit: bool,
    pub raises_on_exit: Vec<i64>,
    pub gpus: Vec<u32>,
    #[serde(default)]
    pub hide_gpus: bool,
    pub nodes: Option<WireNodes>,
    pub attempt_dir: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireNodes {
    pub hostnames: Vec<String>,
    pub threads_per_node: u32,
    /// The host names are those of the Slurm job the worker runs in (`SLURM_JOB_NODELIST`),
    /// known only once it runs (`sbatch`).
    #[serde(default)]
    pub from_slurm_job: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireParam {
    pub name: String,
    pub direction: WireDirection,
    pub ty: WireType,
    pub stream: Option<WireStream>,
    pub prefix: Option<String>,
    pub depth: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireDirection {
    In,
    Out,
    InOut,
    Concurrent,
    Commutative,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireStream {
    Stdin,
    Stdout,
    Stderr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireType {
    Int,
    Float,
    Bool,
    Str,
    Json,
    File,
    Dir,
    List(Box<WireType>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireReturns {
    Single(WireType),
    Tuple(Vec<WireType>),
}

/// A value, with tuples kept apart from lists (JSON alone would merge them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<WireValue>),
    Object(Vec<(String, WireValue)>),
    Tuple(Vec<WireValue>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireBody {
    Binary {
        program: String,
        args: Option<Vec<WireValue>>,
    },
    Mpi {
        runner: String,
        processes: i64,
        flags: Vec<String>,
        program: String,
        args: Option<Vec<WireValue>>,
    },
    Shell {
        template: String,
    },
    Script {
        interpreter: String,
        code: String,
    },
    Container {
        engine: String,
        image: String,
        options: Vec<String>,
        inner: Box<WireBody>,
    },
}

/// An [`AttemptOutcome`] as it travels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireOutcome {
    Succeeded {
        returned: Option<WireValue>,
        out_json: Vec<(String, WireValue)>,
    },
    Failed {
        message: String,
    },
    Raised {
        message: String,
    },
    Cancelled,
}

// ---------------------------------------------------------------------------------------------
// The ssh worker's protocol

/// A file to put in place on the worker before an attempt (staging).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedFile {
    /// Relative to the worker's workdir.
    pub path: PathBuf,
    /// The BLAKE3 hash of its content, hex.
    pub hash: String,
    /// Whether the file is executable (scripts staged as programs).
    #[serde(default)]
    pub executable: bool,
}

/// What a staged attempt needs moved: its inputs in, then which paths to bring back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staging {
    /// Files to put in place (all of a `dir` input's files, one by one).
    pub inputs: Vec<StagedFile>,
    /// Directories to create (empty ones of a `dir` input, and the attempt's workdir).
    pub dirs: Vec<PathBuf>,
    /// Paths whose content comes back after the attempt (a file, or every file under a dir).
    pub outputs: Vec<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ToWorker {
    /// Which of these contents the worker lacks; answered by `Missing`.
    Have { id: u64, hashes: Vec<String> },
    /// A piece of a content; `last` ends it (the worker then checks the hash).
    Blob {
        hash: String,
        data: String,
        last: bool,
    },
    /// Run an attempt; with `staging`, its paths are relative to the worker's workdir.
    Run {
        id: u64,
        attempt: Box<WireAttempt>,
        staging: Option<Staging>,
    },
    /// Stop attempt `id`; its outcome comes back as `Cancelled`.
    Cancel { id: u64 },
    /// Send these contents back as `Blob`s, then `Sent`.
    Fetch { id: u64, hashes: Vec<String> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FromWorker {
    /// The first message: who answers.
    Hello {
        version: u32,
        hostname: String,
        workdir: PathBuf,
    },
    Missing {
        id: u64,
        hashes: Vec<String>,
    },
    Blob {
        hash: String,
        data: String,
        last: bool,
    },
    Sent {
        id: u64,
    },
    /// An attempt's end, with the files it left at its staged output paths.
    Outcome {
        id: u64,
        outcome: WireOutcome,
        outputs: Vec<StagedFile>,
        /// Directories among the outputs (so empty ones come back too).
        output_dirs: Vec<PathBuf>,
    },
    /// Something went wrong outside any attempt (a bad message); the worker goes on.
    Error {
        message: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Conversions

impl WireAttempt {
    pub fn from_spec(spec: &AttemptSpec) -> WireAttempt {
        WireAttempt {
            task_name: spec.task_name.clone(),
            task_id: spec.task_id,
            attempt: spec.attempt,
            params: spec.params.iter().map(WireParam::from_param).collect(),
            returns: spec.returns.as_ref().map(WireReturns::from_returns),
            values: spec
                .values
                .iter()
                .map(|(name, value)| (name.clone(), WireValue::from_value(value)))
                .collect(),
            body: WireBody::from_body(&spec.body),
            env: spec.env.clone(),
            workdir: spec.workdir.clone(),
            timeout_ms: spec
                .timeout
                .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            fail_on_exit: spec.fail_on_exit,
            raises_on_exit: spec.raises_on_exit.clone(),
            gpus: spec.gpus.clone(),
            hide_gpus: spec.hide_gpus,
            nodes: spec.nodes.as_ref().map(|n| WireNodes {
                hostnames: n.hostnames.clone(),
                threads_per_node: n.threads_per_node,
                from_slurm_job: false,
            }),
            attempt_dir: spec.attempt_dir.clone(),
        }
    }

    pub fn into_spec(self) -> Result<AttemptSpec, String> {
        Ok(AttemptSpec {
            task_name: self.task_name,
            task_id: self.task_id,
            attempt: self.attempt,
            params: self.params.into_iter().map(WireParam::into_param).collect(),
            returns: self.returns.map(WireReturns::into_returns),
            values: self
                .values
                .into_iter()
                .map(|(name, value)| (name, value.into_value()))
                .collect(),
            body: self.body.into_body()?,
            env: self.env,
            workdir: self.workdir,
            timeout: self.timeout_ms.map(Duration::from_millis),
            fail_on_exit: self.fail_on_exit,
            raises_on_exit: self.raises_on_exit,
            gpus: self.gpus,
            hide_gpus: self.hide_gpus,
            nodes: self.nodes.map(|n| NodeInfo {
                hostnames: n.hostnames,
                threads_per_node: n.threads_per_node,
            }),
            attempt_dir: self.attempt_dir,
        })
    }
}

impl WireParam {
    fn from_param(param: &ast::Param) -> WireParam {
        WireParam {
            name: param.name.name.clone(),
            direction: match param.direction {
                Direction::In => WireDirection::In,
                Direction::Out => WireDirection::Out,
                Direction::InOut => WireDirection::InOut,
                Direction::Concurrent => WireDirection::Concurrent,
                Direction::Commutative => WireDirection::Commutative,
            },
            ty: WireType::from_type(&param.ty.ty),
            stream: param.stream().map(|s| match s {
                Stream::Stdin => WireStream::Stdin,
                Stream::Stdout => WireStream::Stdout,
                Stream::Stderr => WireStream::Stderr,
            }),
            prefix: param.prefix().map(str::to_string),
            depth: param.depth(),
        }
    }

    fn into_param(self) -> ast::Param {
        let span = Span::default();
        let mut modifiers = Vec::new();
        if let Some(stream) = self.stream {
            let stream = match stream {
                WireStream::Stdin => Stream::Stdin,
                WireStream::Stdout => Stream::Stdout,
                WireStream::Stderr => Stream::Stderr,
            };
            modifiers.push(Modifier::Stream(stream, span));
        }
        if let Some(prefix) = self.prefix {
            modifiers.push(Modifier::Prefix(prefix, span));
        }
        if let Some(depth) = self.depth {
            modifiers.push(Modifier::Depth(depth, span));
        }
        ast::Param {
            doc: None,
            name: Ident {
                name: self.name,
                span,
            },
            direction: match self.direction {
                WireDirection::In => Direction::In,
                WireDirection::Out => Direction::Out,
                WireDirection::InOut => Direction::InOut,
                WireDirection::Concurrent => Direction::Concurrent,
                WireDirection::Commutative => Direction::Commutative,
            },
            direction_span: None,
            ty: ast::TypeExpr {
                ty: self.ty.into_type(),
                span,
            },
            modifiers,
            // Defaults are already applied: every value is in `values`.
            default: None,
            span,
        }
    }
}

impl WireType {
    fn from_type(ty: &Type) -> WireType {
        match ty {
            Type::Int => WireType::Int,
            Type::Float => WireType::Float,
            Type::Bool => WireType::Bool,
            Type::Str => WireType::Str,
            Type::Json => WireType::Json,
            Type::File => WireType::File,
            Type::Dir => WireType::Dir,
            Type::List(inner) => WireType::List(Box::new(WireType::from_type(inner))),
        }
    }

    fn into_type(self) -> Type {
        match self {
            WireType::Int => Type::Int,
            WireType::Float => Type::Float,
            WireType::Bool => Type::Bool,
            WireType::Str => Type::Str,
            WireType::Json => Type::Json,
            WireType::File => Type::File,
            WireType::Dir => Type::Dir,
            WireType::List(inner) => Type::List(Box::new(inner.into_type())),
        }
    }
}

impl WireReturns {
    fn from_returns(returns: &ReturnType) -> WireReturns {
        match returns {
            ReturnType::Single(t) => WireReturns::Single(WireType::from_type(&t.ty)),
            ReturnType::Tuple(items, _) => {
                WireReturns::Tuple(items.iter().map(|t| WireType::from_type(&t.ty)).collect())
            }
        }
    }

    fn into_returns(self) -> ReturnType {
        let expr = |ty: WireType| ast::TypeExpr {
            ty: ty.into_type(),
            span: Span::default(),
        };
        match self {
            WireReturns::Single(ty) => ReturnType::Single(expr(ty)),
            WireReturns::Tuple(items) => {
                ReturnType::Tuple(items.into_iter().map(expr).collect(), Span::default())
            }
        }
    }
}

impl WireValue {
    pub fn from_value(value: &Value) -> WireValue {
        match value {
            // A future never reaches an attempt: the dispatcher resolves them all first.
            Value::Null | Value::Future(_) => WireValue::Null,
            Value::Bool(b) => WireValue::Bool(*b),
            Value::Int(i) => WireValue::Int(*i),
            Value::Float(f) => WireValue::Float(*f),
            Value::Str(s) => WireValue::Str(s.to_string()),
            Value::List(items) => WireValue::List(items.iter().map(Self::from_value).collect()),
            Value::Tuple(items) => WireValue::Tuple(items.iter().map(Self::from_value).collect()),
            Value::Object(entries) => WireValue::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Self::from_value(v)))
                    .collect(),
            ),
        }
    }

    pub fn into_value(self) -> Value {
        match self {
            WireValue::Null => Value::Null,
            WireValue::Bool(b) => Value::Bool(b),
            WireValue::Int(i) => Value::Int(i),
            WireValue::Float(f) => Value::Float(f),
            WireValue::Str(s) => Value::str(s),
            WireValue::List(items) => {
                Value::list(items.into_iter().map(Self::into_value).collect())
            }
            WireValue::Tuple(items) => {
                Value::Tuple(Arc::new(items.into_iter().map(Self::into_value).collect()))
            }
            WireValue::Object(entries) => Value::object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, v.into_value()))
                    .collect::<IndexMap<_, _>>(),
            ),
        }
    }
}

impl WireBody {
    fn from_body(body: &BodySpec) -> WireBody {
        let values = |args: &Option<Vec<Value>>| {
            args.as_ref()
                .map(|xs| xs.iter().map(WireValue::from_value).collect())
        };
        match body {
            BodySpec::Binary { program, args } => WireBody::Binary {
                program: program.clone(),
                args: values(args),
            },
            BodySpec::Mpi {
                runner,
                processes,
                flags,
                program,
                args,
            } => WireBody::Mpi {
                runner: runner.clone(),
                processes: *processes,
                flags: flags.clone(),
                program: program.clone(),
                args: values(args),
            },
            BodySpec::Shell { template } => WireBody::Shell {
                template: template.clone(),
            },
            BodySpec::Script { interpreter, code } => WireBody::Script {
                interpreter: interpreter.clone(),
                code: code.clone(),
            },
            BodySpec::Container {
                engine,
                image,
                options,
                inner,
            } => WireBody::Container {
                engine: engine.command().to_string(),
                image: image.clone(),
                options: options.clone(),
                inner: Box::new(WireBody::from_body(inner)),
            },
        }
    }

    fn into_body(self) -> Result<BodySpec, String> {
        let values = |args: Option<Vec<WireValue>>| {
            args.map(|xs| xs.into_iter().map(WireValue::into_value).collect())
        };
        Ok(match self {
            WireBody::Binary { program, args } => BodySpec::Binary {
                program,
                args: values(args),
            },
            WireBody::Mpi {
                runner,
                processes,
                flags,
                program,
                args,
            } => BodySpec::Mpi {
                runner,
                processes,
                flags,
                program,
                args: values(args),
            },
            WireBody::Shell { template } => BodySpec::Shell { template },
            WireBody::Script { interpreter, code } => BodySpec::Script { interpreter, code },
            WireBody::Container {
                engine,
                image,
                options,
                inner,
            } => BodySpec::Container {
                engine: ContainerEngine::from_name(&engine)
                    .ok_or_else(|| format!("unknown container engine `{engine}`"))?,
                image,
                options,
                inner: Box::new(inner.into_body()?),
            },
        })
    }
}

impl WireOutcome {
    pub fn from_outcome(outcome: &AttemptOutcome) -> WireOutcome {
        match outcome {
            AttemptOutcome::Succeeded { returned, out_json } => WireOutcome::Succeeded {
                returned: returned.as_ref().map(WireValue::from_value),
                out_json: out_json
                    .iter()
                    .map(|(k, v)| (k.clone(), WireValue::from_value(v)))
                    .collect(),
            },
            AttemptOutcome::Failed { message } => WireOutcome::Failed {
                message: message.clone(),
            },
            AttemptOutcome::Raised { message } => WireOutcome::Raised {
                message: message.clone(),
            },
            AttemptOutcome::Cancelled => WireOutcome::Cancelled,
        }
    }

    pub fn into_outcome(self) -> AttemptOutcome {
        match self {
            WireOutcome::Succeeded { returned, out_json } => AttemptOutcome::Succeeded {
                returned: returned.map(WireValue::into_value),
                out_json: out_json
                    .into_iter()
                    .map(|(k, v)| (k, v.into_value()))
                    .collect(),
            },
            WireOutcome::Failed { message } => AttemptOutcome::Failed { message },
            WireOutcome::Raised { message } => AttemptOutcome::Raised { message },
            WireOutcome::Cancelled => AttemptOutcome::Cancelled,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Base64 (RFC 4648, with padding): file contents inside JSON lines.

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let symbols = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for (i, symbol) in symbols.iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(BASE64_ALPHABET[*symbol as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(4) {
        return Err("base64 text whose length is not a multiple of 4".to_string());
    }
    let value = |c: u8| -> Result<u32, String> {
        match c {
            b'A'..=b'Z' => Ok(u32::from(c - b'A')),
            b'a'..=b'z' => Ok(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Ok(u32::from(c - b'0') + 52),
            b'+' => Ok(62),
            b'/' => Ok(63),
            other => Err(format!("bad base64 character {:?}", char::from(other))),
        }
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (index, quad) in text.chunks(4).enumerate() {
        let last = index == text.len() / 4 - 1;
        let padding = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return Err("misplaced base64 padding".to_string());
        }
        let mut n = 0u32;
        for &c in &quad[..4 - padding] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * padding as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - padding]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        for length in 0..20 {
            let bytes: Vec<u8> = (0..length).map(|i| (i * 37 + 11) as u8).collect();
            let text = base64_encode(&bytes);
            assert_eq!(base64_decode(&text).unwrap(), bytes, "length {length}");
        }
        assert_eq!(base64_encode(b"weft"), "d2VmdA==");
        assert_eq!(base64_decode("d2VmdA==").unwrap(), b"weft");
        assert!(base64_decode("d2V").is_err());
        assert!(base64_decode("d2=mdA==").is_err());
        assert!(base64_decode("d2V*dA==").is_err());
    }

    #[test]
    fn values_keep_tuples_apart_from_lists() {
        let value = Value::Tuple(Arc::new(vec![
            Value::list(vec![Value::Int(1), Value::Float(2.5)]),
            Value::object(IndexMap::from([("k".to_string(), Value::str("v"))])),
            Value::Null,
        ]));
        let text = serde_json::to_string(&WireValue::from_value(&value)).unwrap();
        let back: WireValue = serde_json::from_str(&text).unwrap();
        assert_eq!(back.into_value(), value);
    }
}
