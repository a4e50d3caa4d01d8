//! The configuration file of LANGUAGE.md §8.1 and the resources it describes.
//!
//! `weft run`, `weft check` and `weft graph` read one configuration: `--config FILE`, else
//! `weft.yaml` beside the workflow file, else the built-in default (the local machine alone,
//! as detected). The file is YAML, read with serde; every mistake in it is a `weft::config`
//! diagnostic pointing at the exact line and column of the offending YAML, with a help line.
//! `weft config schema` prints [`json_schema`].
//!
//! [`Config::resources`] turns the configuration into the plain list of [`ResourceSpec`]s the
//! dispatcher's resource pool works over (§8.2).

// Every stage of the compiler reports a `Diagnostic` by value; boxing it here alone would only
// make this module's callers differ from the others'.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use schemars::gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject, SubschemaValidation};
use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::ast::Span;
use crate::diagnostic::{Code, Diagnostic, SourceFile};

/// The name of the configuration file looked for beside a workflow file.
pub const DEFAULT_FILE_NAME: &str = "weft.yaml";

/// A whole configuration file. Every section is optional: an empty file is the default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "weft configuration")]
pub struct Config {
    /// Where tasks run.
    #[serde(default)]
    pub executor: ExecutorKind,
    /// The local machine (executor `local`); values left out are detected.
    #[serde(default)]
    pub local: LocalConfig,
    /// Remote hosts reached through ssh (executor `ssh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshConfig>,
    /// The container engine used by tasks with a `container` directive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<ContainersConfig>,
    /// Slurm settings (executor `slurm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<SlurmConfig>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    /// Run every task on this machine.
    #[default]
    Local,
    /// Run tasks on the hosts of the `ssh` section.
    Ssh,
    /// Run tasks through Slurm (`srun` steps or `sbatch` jobs).
    Slurm,
}

impl ExecutorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorKind::Local => "local",
            ExecutorKind::Ssh => "ssh",
            ExecutorKind::Slurm => "slurm",
        }
    }
}

impl fmt::Display for ExecutorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The local machine. A field left out is detected when the resources are built.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    /// CPU cores tasks may reserve (default: all logical CPUs).
    #[serde(
        default,
        deserialize_with = "deserialize_core_count",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "core_count_schema")]
    pub cores: Option<u32>,
    /// Memory tasks may reserve (default: physical memory).
    #[serde(
        default,
        deserialize_with = "deserialize_size",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "size_schema")]
    pub memory: Option<u64>,
    /// GPUs tasks may reserve, numbered 0, 1, … (default: detected NVIDIA devices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<u32>,
    /// Scratch space tasks may reserve with a `disk` constraint (default: not accounted).
    #[serde(
        default,
        deserialize_with = "deserialize_size",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "size_schema")]
    pub disk: Option<u64>,
    /// Labels the machine carries (software, queues, …), matched by `labels` constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// The architecture constraints see (default: this build's, e.g. `x86_64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The operating system constraints see (default: this build's, e.g. `linux`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
}

impl LocalConfig {
    /// The architecture constraints see: the configured one, else this build's.
    pub fn arch_or_this(&self) -> String {
        self.arch
            .clone()
            .unwrap_or_else(|| std::env::consts::ARCH.to_string())
    }

    /// The operating system constraints see: the configured one, else this build's.
    pub fn os_or_this(&self) -> String {
        self.os
            .clone()
            .unwrap_or_else(|| std::env::consts::OS.to_string())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshConfig {
    /// The hosts, in the order GPUs and round-robin placement follow.
    #[serde(default)]
    pub hosts: Vec<SshHost>,
}

/// One remote host. Nothing can be detected on it before connecting, so `cores` is required;
/// memory and disk left out are not accounted on that host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshHost {
    /// The host name or address ssh connects to.
    pub host: String,
    /// The remote user (default: ssh's own default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default = "default_ssh_port")]
    pub port: u16,
    /// CPU cores tasks may reserve on the host.
    #[serde(deserialize_with = "deserialize_required_core_count")]
    #[schemars(schema_with = "core_count_schema")]
    pub cores: u32,
    /// Memory tasks may reserve on the host (default: not accounted).
    #[serde(
        default,
        deserialize_with = "deserialize_size",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "size_schema")]
    pub memory: Option<u64>,
    /// GPUs tasks may reserve on the host (default: 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<u32>,
    /// Scratch space tasks may reserve on the host (default: not accounted).
    #[serde(
        default,
        deserialize_with = "deserialize_size",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "size_schema")]
    pub disk: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// The host's architecture (default: the same as the local machine's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The host's operating system (default: `linux`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// The weft binary on that host (default: `weft` on its PATH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weft: Option<String>,
    /// The directory tasks run in on that host (default: the remote user's home).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
    /// Copy input files to the host and results back, for hosts that do not share the
    /// run's file system (default: false, a shared file system).
    #[serde(default)]
    pub staging: bool,
}

fn default_ssh_port() -> u16 {
    22
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainersConfig {
    /// The engine, run as found on PATH.
    #[serde(default)]
    pub engine: ContainerEngine,
    /// Extra options given to the engine's run command.
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContainerEngine {
    #[default]
    Docker,
    Podman,
    Apptainer,
}

impl ContainerEngine {
    /// The program run for this engine.
    pub fn program(self) -> &'static str {
        match self {
            ContainerEngine::Docker => "docker",
            ContainerEngine::Podman => "podman",
            ContainerEngine::Apptainer => "apptainer",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlurmConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default)]
    pub mode: SlurmMode,
    /// The most Slurm jobs or steps weft keeps submitted at once (default: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_jobs: Option<u32>,
    /// A Handlebars template for the `sbatch` script, replacing the built-in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_template: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SlurmMode {
    /// Job steps inside the current allocation.
    #[default]
    Srun,
    /// One job per task.
    Sbatch,
}

/// One resource tasks can be placed on, with everything known about it: what the resource
/// pool (§8.2) reserves from and matches constraints against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceSpec {
    /// The name weft shows for it (`local`, or the ssh host).
    pub name: String,
    /// The host name given to tasks (`WEFT_HOSTNAMES`).
    pub hostname: String,
    pub cores: u32,
    /// Bytes; `u64::MAX` when not accounted.
    pub memory: u64,
    /// GPUs, numbered `0..gpus`.
    pub gpus: u32,
    /// Bytes of scratch space; `None` when not accounted (a `disk` constraint then only
    /// documents the need).
    pub disk: Option<u64>,
    pub labels: Vec<String>,
    pub arch: String,
    pub os: String,
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, Diagnostic> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::from_yaml(path, &text),
            Err(err) => {
                let file = SourceFile::new(path, String::new());
                Err(Diagnostic::error(
                    Code::Config,
                    &file,
                    Span::new(0, 0),
                    format!(
                        "cannot read the configuration file {}: {err}",
                        path.display()
                    ),
                )
                .with_help("pass an existing YAML file to --config"))
            }
        }
    }

    /// Parses and checks configuration text; `path` names the file in diagnostics.
    pub fn from_yaml(path: &Path, text: &str) -> Result<Config, Diagnostic> {
        let file = SourceFile::new(path, text);
        // An empty document (or one holding only comments) is the default configuration;
        // serde would read it as a missing value rather than as an empty mapping.
        // The text is first read as any YAML, ignoring what it says, to tell a file that is not
        // YAML at all from one that does not fit the format. (Not into a `Value`: that refuses
        // repeated keys, which the second reading reports better, at the repetition.)
        serde_yaml_ng::from_str::<serde::de::IgnoredAny>(text)
            .map_err(|err| yaml_error(&file, &err, true))?;
        let parsed: Option<Config> =
            serde_yaml_ng::from_str(text).map_err(|err| yaml_error(&file, &err, false))?;
        let config = parsed.unwrap_or_default();
        config.check(&file)?;
        Ok(config)
    }

    /// The configuration of a run of `workflow_file`: `explicit` (`--config`) if given, else
    /// `weft.yaml` beside the workflow file if it exists, else the built-in default.
    pub fn for_workflow(
        workflow_file: &Path,
        explicit: Option<&Path>,
    ) -> Result<Config, Diagnostic> {
        if let Some(path) = explicit {
            return Config::load(path);
        }
        let beside = workflow_file
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join(DEFAULT_FILE_NAME);
        if beside.is_file() {
            Config::load(&beside)
        } else {
            Ok(Config::default())
        }
    }

    /// The resources tasks can be placed on, in configuration order (GPU numbering and
    /// round-robin placement follow it).
    ///
    /// `local`: the local machine, with what the `local` section leaves out detected.
    /// `ssh`: one resource per host. `slurm`: the local machine's shape, for checks before
    /// running (`weft check`); a run takes its resources from the allocation or the
    /// partition (`executor::backends`).
    pub fn resources(&self) -> Vec<ResourceSpec> {
        match self.executor {
            ExecutorKind::Local | ExecutorKind::Slurm => vec![self.local_resource()],
            ExecutorKind::Ssh => self
                .ssh
                .iter()
                .flat_map(|ssh| ssh.hosts.iter())
                .map(ssh_resource)
                .collect(),
        }
    }

    fn local_resource(&self) -> ResourceSpec {
        let local = &self.local;
        ResourceSpec {
            name: "local".to_string(),
            hostname: local_hostname(),
            cores: local.cores.unwrap_or_else(detected_cores),
            memory: local.memory.unwrap_or_else(detected_memory),
            gpus: local.gpus.unwrap_or_else(detected_gpus),
            disk: local.disk,
            labels: local.labels.clone(),
            arch: local.arch_or_this(),
            os: local.os_or_this(),
        }
    }

    /// Checks that need the whole file: what serde cannot see field by field.
    fn check(&self, file: &Arc<SourceFile>) -> Result<(), Diagnostic> {
        if self.executor == ExecutorKind::Ssh
            && self.ssh.as_ref().is_none_or(|ssh| ssh.hosts.is_empty())
        {
            let span = top_level_value_span(&file.text, "executor").unwrap_or_default();
            return Err(Diagnostic::error(
                Code::Config,
                file,
                span,
                "the ssh executor needs at least one host",
            )
            .with_label("executor chosen here")
            .with_help(
                "add a section `ssh: { hosts: [ { host: NAME, cores: N } ] }`, or use `executor: local`",
            ));
        }
        Ok(())
    }
}

fn ssh_resource(host: &SshHost) -> ResourceSpec {
    ResourceSpec {
        name: host.host.clone(),
        hostname: host.host.clone(),
        cores: host.cores,
        memory: host.memory.unwrap_or(u64::MAX),
        gpus: host.gpus.unwrap_or(0),
        disk: host.disk,
        labels: host.labels.clone(),
        // A cluster is most often homogeneous: without a word about the host, assume it is
        // the same kind of machine as this one, running Linux.
        arch: host
            .arch
            .clone()
            .unwrap_or_else(|| std::env::consts::ARCH.to_string()),
        os: host.os.clone().unwrap_or_else(|| "linux".to_string()),
    }
}

/// The JSON Schema of the configuration format (`weft config schema`).
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Config);
    serde_json::to_value(&schema).unwrap_or(serde_json::Value::Null)
}

// ---------------------------------------------------------------------------------------------
// Sizes

/// Parses a size: `16GiB`, `512MiB`, `2GB`, `100B`, or plain digits (bytes). `KiB MiB GiB TiB`
/// are powers of 1024, `KB MB GB TB` powers of 1000, as in the language's size literals (§2).
/// Underscores may separate digits and spaces may stand before the unit. `None` for anything
/// else, or a size that does not fit in 64 bits.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    if !digits.starts_with(|c: char| c.is_ascii_digit()) || digits.ends_with('_') {
        return None;
    }
    let number: u64 = digits.replace('_', "").parse().ok()?;
    let multiplier: u64 = match unit.trim_start() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(multiplier)
}

/// Writes a size for people: the largest binary unit that divides it exactly (`16GiB`,
/// `1536MiB`), else bytes (`1000B`); `unlimited` for `u64::MAX`, the size of what is not
/// accounted.
pub fn format_size(bytes: u64) -> String {
    if bytes == u64::MAX {
        return "unlimited".to_string();
    }
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    UNITS
        .iter()
        .find(|(_, factor)| bytes != 0 && bytes.is_multiple_of(*factor))
        .map_or_else(
            || format!("{bytes}B"),
            |(unit, factor)| format!("{}{unit}", bytes / factor),
        )
}

/// The expectation serde reports for a bad size; `yaml_error` recognises it to add the help.
const SIZE_EXPECTATION: &str = "a size such as 16GiB, 512MiB or 2GB, or an integer of bytes";

struct SizeVisitor;

impl Visitor<'_> for SizeVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SIZE_EXPECTATION)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        parse_size(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

fn deserialize_size<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    deserializer.deserialize_any(OrNull(SizeVisitor))
}

/// A visitor that also takes `null` (a key written with no value, `memory:`) as "not given",
/// as serde does for every other optional field.
struct OrNull<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for OrNull<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.0.visit_u64(v).map(Some)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.0.visit_i64(v).map(Some)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.0.visit_str(v).map(Some)
    }
}

fn size_schema(_: &mut SchemaGenerator) -> Schema {
    let text = SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        string: Some(Box::new(schemars::schema::StringValidation {
            pattern: Some(r"^\s*[0-9][0-9_]*\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$".to_string()),
            ..Default::default()
        })),
        ..Default::default()
    };
    let bytes = SchemaObject {
        instance_type: Some(InstanceType::Integer.into()),
        number: Some(Box::new(schemars::schema::NumberValidation {
            minimum: Some(0.0),
            ..Default::default()
        })),
        ..Default::default()
    };
    let mut schema = SchemaObject {
        subschemas: Some(Box::new(SubschemaValidation {
            one_of: Some(vec![text.into(), bytes.into()]),
            ..Default::default()
        })),
        ..Default::default()
    };
    schema.metadata().description =
        Some("a size: an integer of bytes, or a string such as 16GiB, 512MiB or 2GB".to_string());
    schema.into()
}

// ---------------------------------------------------------------------------------------------
// Core counts: zero cores would make every task unsatisfiable, so it is refused where written.

const CORE_COUNT_EXPECTATION: &str = "a number of cores, at least 1";

struct CoreCountVisitor;

impl Visitor<'_> for CoreCountVisitor {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(CORE_COUNT_EXPECTATION)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
        match u32::try_from(v) {
            Ok(cores) if cores >= 1 => Ok(cores),
            _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u32, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }
}

fn deserialize_core_count<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u32>, D::Error> {
    deserializer.deserialize_any(OrNull(CoreCountVisitor))
}

fn deserialize_required_core_count<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<u32, D::Error> {
    deserializer.deserialize_any(CoreCountVisitor)
}

fn core_count_schema(_: &mut SchemaGenerator) -> Schema {
    let mut schema = SchemaObject {
        instance_type: Some(InstanceType::Integer.into()),
        number: Some(Box::new(schemars::schema::NumberValidation {
            minimum: Some(1.0),
            maximum: Some(f64::from(u32::MAX)),
            ..Default::default()
        })),
        ..Default::default()
    };
    schema.metadata().description = Some(CORE_COUNT_EXPECTATION.to_string());
    schema.into()
}

// ---------------------------------------------------------------------------------------------
// Detection of the local machine

/// All logical CPUs (1 when they cannot be counted).
pub fn detected_cores() -> u32 {
    std::thread::available_parallelism()
        .ok()
        .and_then(|n| u32::try_from(n.get()).ok())
        .unwrap_or(1)
}

/// Physical memory, from `/proc/meminfo`'s `MemTotal`; `u64::MAX` (not accounted) where that
/// cannot be read, so that memory constraints never make a task unsatisfiable by accident.
pub fn detected_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|meminfo| parse_meminfo_total(&meminfo))
        .unwrap_or(u64::MAX)
}

/// The `MemTotal` line of `/proc/meminfo`, in bytes (the file says `kB` and means KiB).
pub fn parse_meminfo_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line["MemTotal:".len()..].split_whitespace();
    let amount: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => amount.checked_mul(1024),
        None => Some(amount),
        Some(_) => None,
    }
}

/// NVIDIA GPUs: the `/dev/nvidia0`, `/dev/nvidia1`, … device files.
pub fn detected_gpus() -> u32 {
    let Ok(entries) = std::fs::read_dir("/dev") else {
        return 0;
    };
    let count = entries
        .filter_map(Result::ok)
        .filter(|entry| is_nvidia_gpu_device(&entry.file_name().to_string_lossy()))
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// `nvidia0`, `nvidia12` — not `nvidiactl`, `nvidia-uvm` and the like.
fn is_nvidia_gpu_device(name: &str) -> bool {
    name.strip_prefix("nvidia")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// This machine's host name (`localhost` when it cannot be found).
pub fn local_hostname() -> String {
    let from_kernel = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|name| name.trim().to_string());
    from_kernel
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|n| !n.is_empty()))
        .unwrap_or_else(|| "localhost".to_string())
}

// ---------------------------------------------------------------------------------------------
// YAML errors → diagnostics

/// Turns a serde_yaml_ng error into a `weft::config` diagnostic at the error's place.
/// `not_yaml` says the text does not even parse as YAML (rather than not fitting the format).
fn yaml_error(file: &Arc<SourceFile>, err: &serde_yaml_ng::Error, not_yaml: bool) -> Diagnostic {
    let raw = err.to_string();
    let (message_with_path, _) = split_location_suffix(&raw);
    let (path, message) = split_yaml_path(message_with_path);
    let offset = err.location().map_or(file.text.len(), |loc| {
        offset_of(&file.text, loc.line(), loc.column())
    });
    let span = token_span(&file.text, offset);
    let explained = if not_yaml {
        Explained {
            message: format!("the configuration is not valid YAML: {message}"),
            label: "the YAML parser stopped here".to_string(),
            help: Some(
                "check the indentation (the keys of one mapping line up) and that every \
                 bracket and quote is closed"
                    .to_string(),
            ),
        }
    } else {
        explain(path, message)
    };
    let mut diagnostic =
        Diagnostic::error(Code::Config, file, span, explained.message).with_label(explained.label);
    if let Some(help) = explained.help {
        diagnostic = diagnostic.with_help(help);
    }
    // serde reports a repeated field at the start of its mapping, i.e. at the first key:
    // point at the repetition instead, with a second label at the first occurrence.
    if let Some(name) = message
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        let keys = block_mapping_keys(&file.text, offset, name);
        if let [first, second, ..] = keys[..] {
            diagnostic.span = second;
            diagnostic = diagnostic.with_related(first, "first written here");
        }
    }
    diagnostic
}

/// The spans of the keys `name` in the block mapping whose first key is at `offset`: the
/// lines indented exactly as that key, up to the first line indented less.
fn block_mapping_keys(text: &str, offset: usize, name: &str) -> Vec<Span> {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let indent = offset - line_start;
    // A mapping inside a list item (`- host: a`) has its first key after the dash; its other
    // keys are indented to the same column.
    let mut keys = Vec::new();
    let mut at = line_start;
    for (index, line) in text[line_start..].split_inclusive('\n').enumerate() {
        let content = line.trim_end();
        let leading = content.len() - content.trim_start().len();
        let is_blank_or_comment =
            content.trim_start().is_empty() || content.trim_start().starts_with('#');
        if index > 0 && !is_blank_or_comment && leading < indent {
            break;
        }
        let key_start = if index == 0 { indent } else { leading };
        if key_start == indent && content.len() > indent {
            let after_key = content[indent..].strip_prefix(name);
            if after_key.is_some_and(|rest| rest.trim_start().starts_with(':')) {
                keys.push(Span::new(at + indent, at + indent + name.len()));
            }
        }
        at += line.len();
    }
    keys
}

/// serde_yaml_ng ends its messages with ` at line L column C` (and libyaml's with more text
/// after it, e.g. `, while parsing a block mapping at line 1 column 1`): the diagnostic shows
/// the place itself, so the message is cut there. Returns the message and the rest.
fn split_location_suffix(raw: &str) -> (&str, &str) {
    let mut search_from = 0;
    while let Some(found) = raw[search_from..].find(" at line ") {
        let at = search_from + found;
        let rest = &raw[at + " at line ".len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(" column ") {
            return (&raw[..at], &raw[at..]);
        }
        search_from = at + 1;
    }
    (raw, "")
}

/// serde_yaml_ng writes the path of the value (`local.memory: …`, `ssh.hosts[0]: …`) before
/// messages that come from the deserialised types.
fn split_yaml_path(message: &str) -> (Option<&str>, &str) {
    if let Some((path, rest)) = message.split_once(": ") {
        let looks_like_path = !path.is_empty()
            && path
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']' | '?'));
        if looks_like_path && path != "." {
            return (Some(path), rest);
        }
    }
    (None, message)
}

struct Explained {
    message: String,
    label: String,
    help: Option<String>,
}

/// Rewrites serde's messages for people writing a configuration file. `path` is where the
/// value sits (`local.memory`, `ssh.hosts[0]`); `None` at the top level.
fn explain(path: Option<&str>, message: &str) -> Explained {
    let place = path.map_or_else(String::new, |path| format!(" for `{path}`"));
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (name, expected) = split_expected(rest);
        let allowed = backquoted_names(expected);
        let mut help = if allowed.is_empty() {
            "this section takes no fields".to_string()
        } else {
            format!("the fields allowed here are: {}", allowed.join(", "))
        };
        if let Some(close) = closest(&name, &allowed) {
            help = format!("did you mean `{close}`? {help}");
        }
        let section = path.map_or_else(
            || "at the top level of the configuration".to_string(),
            |path| format!("in `{path}`"),
        );
        return Explained {
            message: format!("unknown field `{name}` {section}"),
            label: "unknown field".to_string(),
            help: Some(help),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (name, expected) = split_expected(rest);
        let allowed = backquoted_names(expected);
        let mut help = format!("write one of: {}", allowed.join(", "));
        if let Some(close) = closest(&name, &allowed) {
            help = format!("did you mean `{close}`? {help}");
        }
        return Explained {
            message: format!("unknown value `{name}`{place}"),
            label: "not one of the allowed values".to_string(),
            help: Some(help),
        };
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        let name = rest.trim_matches('`');
        let entry = path.map_or_else(
            || "the configuration".to_string(),
            |path| format!("`{path}`"),
        );
        return Explained {
            message: format!("{entry} lacks the field `{name}`"),
            label: format!("this entry needs `{name}`"),
            help: Some(format!("add `{name}: …` to it")),
        };
    }
    if let Some(rest) = message.strip_prefix("duplicate field ") {
        let name = rest.trim_matches('`');
        let section = path.map_or_else(
            || "at the top level of the configuration".to_string(),
            |path| format!("in `{path}`"),
        );
        return Explained {
            message: format!("`{name}` is written twice {section}"),
            label: "written again here".to_string(),
            help: Some("keep only one of them".to_string()),
        };
    }
    if message.ends_with(SIZE_EXPECTATION) {
        return Explained {
            message: format!("bad size {}{place}", message_subject(message)),
            label: "not a size".to_string(),
            help: Some(
                "write a unit such as 16GiB, 512MiB or 2GB (KiB, MiB, GiB, TiB are powers of 1024; \
                 KB, MB, GB, TB powers of 1000), or an integer of bytes"
                    .to_string(),
            ),
        };
    }
    if message.ends_with(CORE_COUNT_EXPECTATION) {
        return Explained {
            message: format!("bad number of cores {}{place}", message_subject(message)),
            label: "not a number of cores".to_string(),
            help: Some("write a whole number of cores, at least 1".to_string()),
        };
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another type"));
        return Explained {
            message: format!(
                "expected {}{place}, found {found}",
                plain_expectation(expected)
            ),
            label: "wrong type".to_string(),
            help: None,
        };
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another value"));
        return Explained {
            message: format!(
                "expected {}{place}, found {found}",
                plain_expectation(expected)
            ),
            label: "bad value".to_string(),
            help: None,
        };
    }
    Explained {
        message: match path {
            Some(path) => format!("{message} (at `{path}`)"),
            None => message.to_string(),
        },
        label: "here".to_string(),
        help: None,
    }
}

/// serde names Rust types in its expectations; a configuration's author thinks in YAML.
fn plain_expectation(expected: &str) -> &str {
    match expected {
        "u8" | "u16" | "u32" | "u64" => "a non-negative integer",
        "a boolean" => "true or false",
        "a sequence" => "a list",
        "struct Config" => "a mapping of sections (executor, local, ssh, containers, slurm)",
        other if other.starts_with("struct ") => "a mapping of fields",
        other => other,
    }
}

/// `` `name`, expected one of `a`, `b` `` → (`name`, "one of `a`, `b`").
fn split_expected(rest: &str) -> (String, &str) {
    match rest.split_once(", expected ") {
        Some((name, expected)) => (name.trim_matches('`').to_string(), expected),
        None => (rest.trim_matches('`').to_string(), ""),
    }
}

/// The names written between backquotes.
fn backquoted_names(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The allowed name closest to a misspelt one, if one is close enough to be a likely typo.
fn closest(name: &str, allowed: &[String]) -> Option<String> {
    allowed
        .iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate.clone())
}

/// `invalid value: string "16G", expected …` → `"16G"`; `invalid value: integer `0`, …` → `0`.
fn message_subject(message: &str) -> &str {
    let without_expectation = message.split(", expected ").next().unwrap_or(message);
    let subject = without_expectation
        .strip_prefix("invalid value: ")
        .or_else(|| without_expectation.strip_prefix("invalid type: "))
        .unwrap_or(without_expectation);
    if let Some(text) = subject.strip_prefix("string ") {
        return text;
    }
    if subject == "unit value" {
        // What serde calls a YAML `null` (or a key written without a value).
        return "null";
    }
    match subject.strip_prefix("integer ") {
        Some(number) => number.trim_matches('`'),
        None => subject,
    }
}

/// The byte offset of a 1-based line and column (columns count characters, as libyaml's do).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut line_start = 0;
    for _ in 1..line {
        match text[line_start..].find('\n') {
            Some(newline) => line_start += newline + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[line_start..];
    let line_end = line_text.find('\n').unwrap_or(line_text.len());
    line_text[..line_end]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line_start + line_end, |(i, _)| line_start + i)
}

/// The YAML token starting at `offset`: a quoted scalar, or a plain one up to the `: ` of a
/// key, a ` #` comment, a flow separator or the end of the line. Empty at the end of the file.
fn token_span(text: &str, offset: usize) -> Span {
    let offset = offset.min(text.len());
    let rest = &text[offset..];
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let len = match line.chars().next() {
        None => 0,
        Some(quote @ ('"' | '\'')) => line[1..].find(quote).map_or(line.len(), |i| i + 2),
        Some(_) => {
            let mut end = line.len();
            for stop in [": ", " #", ", ", "]", "}"] {
                if let Some(i) = line.find(stop) {
                    end = end.min(i);
                }
            }
            if line.ends_with(':') {
                end = end.min(line.len() - 1);
            }
            let token = line[..end].trim_end();
            if token.is_empty() {
                line.chars().next().map_or(0, char::len_utf8)
            } else {
                token.len()
            }
        }
    };
    Span::new(offset, offset + len)
}

/// The span of the value of a top-level `key:` line (or of the key when the value is empty).
fn top_level_value_span(text: &str, key: &str) -> Option<Span> {
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if let Some(after_key) = line.strip_prefix(key) {
            if let Some(after_colon) = after_key.trim_start_matches([' ', '\t']).strip_prefix(':') {
                let value_offset =
                    line_start + line.len() - after_colon.trim_start_matches([' ', '\t']).len();
                let span = token_span(text, value_offset);
                return Some(if span.is_empty() || text[span.start..].starts_with('#') {
                    Span::new(line_start, line_start + key.len())
                } else {
                    span
                });
            }
        }
        line_start += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_size("16GiB"), Some(16 << 30));
        assert_eq!(parse_size("512MiB"), Some(512 << 20));
        assert_eq!(parse_size("1KiB"), Some(1024));
        assert_eq!(parse_size("1TiB"), Some(1 << 40));
        assert_eq!(parse_size("2GB"), Some(2_000_000_000));
        assert_eq!(parse_size("5MB"), Some(5_000_000));
        assert_eq!(parse_size("100KB"), Some(100_000));
        assert_eq!(parse_size("3TB"), Some(3_000_000_000_000));
        assert_eq!(parse_size("100B"), Some(100));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("1_000_000"), Some(1_000_000));
        assert_eq!(parse_size(" 8 GiB "), Some(8 << 30));
    }

    #[test]
    fn bad_sizes_are_refused() {
        for bad in [
            "", "GiB", "16G", "16gib", "1.5GiB", "-1", "_1", "1_", "16 GiB x",
        ] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
        assert_eq!(parse_size("99999999999TiB"), None, "overflow");
    }

    #[test]
    fn sizes_format_back_in_the_largest_exact_unit() {
        assert_eq!(format_size(16 << 30), "16GiB");
        assert_eq!(format_size(1536 << 20), "1536MiB");
        assert_eq!(format_size(1 << 40), "1TiB");
        assert_eq!(format_size(1000), "1000B");
        assert_eq!(format_size(0), "0B");
        assert_eq!(format_size(u64::MAX), "unlimited");
        for size in ["16GiB", "512MiB", "3KiB", "7B"] {
            assert_eq!(format_size(parse_size(size).unwrap()), size);
        }
    }

    #[test]
    fn meminfo_total_is_read_in_bytes() {
        let meminfo = "MemTotal:       16318764 kB\nMemFree:  1 kB\n";
        assert_eq!(parse_meminfo_total(meminfo), Some(16318764 * 1024));
        assert_eq!(parse_meminfo_total("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn only_numbered_nvidia_devices_are_gpus() {
        assert!(is_nvidia_gpu_device("nvidia0"));
        assert!(is_nvidia_gpu_device("nvidia12"));
        assert!(!is_nvidia_gpu_device("nvidiactl"));
        assert!(!is_nvidia_gpu_device("nvidia-uvm"));
        assert!(!is_nvidia_gpu_device("nvidia"));
    }

    #[test]
    fn locations_become_byte_offsets_counting_characters() {
        let text = "a: 1\nbé: xyz\n";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 1), 5);
        // `é` is two bytes but one column.
        assert_eq!(offset_of(text, 2, 5), 10);
        assert_eq!(
            &text[token_span(text, 10).start..token_span(text, 10).end],
            "xyz"
        );
    }

    #[test]
    fn tokens_stop_at_keys_comments_and_flow_separators() {
        let span_text = |text: &str, at: usize| {
            let span = token_span(text, at);
            text[span.start..span.end].to_string()
        };
        assert_eq!(span_text("cors: 4\n", 0), "cors");
        assert_eq!(span_text("memory: 16G   # note\n", 8), "16G");
        assert_eq!(span_text("labels: [a, b]\n", 9), "a");
        assert_eq!(span_text("x: \"a b\" \n", 3), "\"a b\"");
        assert_eq!(span_text("x:", 2), "");
    }

    #[test]
    fn location_suffixes_are_cut() {
        let (message, rest) =
            split_location_suffix("did not find expected key at line 3 column 5, while parsing");
        assert_eq!(message, "did not find expected key");
        assert!(rest.starts_with(" at line 3"));
        assert_eq!(split_location_suffix("no place").0, "no place");
    }
}
