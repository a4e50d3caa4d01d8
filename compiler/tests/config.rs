//! The configuration file (LANGUAGE.md §8.1): parsing, defaults, resources, errors, schema.

#![allow(clippy::result_large_err)]

use std::path::Path;

use weft_compiler::config::{
    json_schema, parse_size, Config, ContainerEngine, ExecutorKind, SlurmMode, DEFAULT_FILE_NAME,
};
use weft_compiler::diagnostic::{render_plain, Code, Diagnostic};

const GIB: u64 = 1 << 30;

fn parse(text: &str) -> Result<Config, Diagnostic> {
    Config::from_yaml(Path::new("weft.yaml"), text)
}

fn parse_err(text: &str) -> Diagnostic {
    match parse(text) {
        Ok(config) => panic!("expected an error, parsed {config:?}"),
        Err(diagnostic) => diagnostic,
    }
}

/// The text a diagnostic's primary span covers.
fn spanned(diagnostic: &Diagnostic) -> &str {
    &diagnostic.file.text[diagnostic.span.start..diagnostic.span.end]
}

const FULL_EXAMPLE: &str = r#"executor: local            # local | ssh | slurm
local:
  cores: 8                 # default: all logical CPUs
  memory: 16GiB            # default: physical memory
  gpus: 0                  # default: detected
  labels: [blast]
ssh:
  hosts:
    - host: node1.example.org
      user: alice
      port: 22
      cores: 16
      memory: 64GiB
      gpus: 2
      labels: [blast]
      weft: /opt/weft/bin/weft     # the weft binary on that host
      workdir: /scratch/alice/weft
containers:
  engine: docker           # docker | podman | apptainer, run as found on PATH
  options: ["--network=none"]
slurm:
  partition: debug
  account: myproj
  mode: srun               # srun: job steps inside the current allocation; sbatch: one job per task
  max_jobs: 100
"#;

#[test]
fn the_full_example_of_the_reference_parses() {
    let config = parse(FULL_EXAMPLE).expect("the example is valid");
    assert_eq!(config.executor, ExecutorKind::Local);
    assert_eq!(config.local.cores, Some(8));
    assert_eq!(config.local.memory, Some(16 * GIB));
    assert_eq!(config.local.gpus, Some(0));
    assert_eq!(config.local.labels, vec!["blast"]);

    let hosts = &config.ssh.as_ref().expect("ssh section").hosts;
    assert_eq!(hosts.len(), 1);
    let node = &hosts[0];
    assert_eq!(node.host, "node1.example.org");
    assert_eq!(node.user.as_deref(), Some("alice"));
    assert_eq!(node.port, 22);
    assert_eq!(node.cores, 16);
    assert_eq!(node.memory, Some(64 * GIB));
    assert_eq!(node.gpus, Some(2));
    assert_eq!(node.labels, vec!["blast"]);
    assert_eq!(node.weft.as_deref(), Some("/opt/weft/bin/weft"));
    assert_eq!(node.workdir.as_deref(), Some("/scratch/alice/weft"));
    assert!(!node.staging);

    let containers = config.containers.as_ref().expect("containers section");
    assert_eq!(containers.engine, ContainerEngine::Docker);
    assert_eq!(containers.options, vec!["--network=none"]);

    let slurm = config.slurm.as_ref().expect("slurm section");
    assert_eq!(slurm.partition.as_deref(), Some("debug"));
    assert_eq!(slurm.account.as_deref(), Some("myproj"));
    assert_eq!(slurm.mode, SlurmMode::Srun);
    assert_eq!(slurm.max_jobs, Some(100));
    assert_eq!(slurm.script_template, None);
}

#[test]
fn an_empty_file_is_the_default_configuration() {
    for text in ["", "\n", "# only a comment\n", "{}"] {
        let config = parse(text).expect("empty configuration");
        assert_eq!(config, Config::default(), "{text:?}");
    }
    let config = Config::default();
    assert_eq!(config.executor, ExecutorKind::Local);
    assert_eq!(config.local.cores, None);
    assert!(config.ssh.is_none() && config.containers.is_none() && config.slurm.is_none());
}

#[test]
fn keys_without_values_are_left_out() {
    let config = parse("local:\n  cores:\n  memory:\n  gpus:\n  labels:\ncontainers:\n").unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn sections_fill_in_their_defaults() {
    let config = parse(
        "executor: ssh\nssh:\n  hosts:\n    - host: n1\n      cores: 4\ncontainers: {}\nslurm: {}\n",
    )
    .expect("valid");
    let host = &config.ssh.as_ref().unwrap().hosts[0];
    assert_eq!(host.port, 22);
    assert_eq!(host.user, None);
    assert_eq!(host.memory, None);
    assert!(!host.staging);
    let containers = config.containers.unwrap();
    assert_eq!(containers.engine, ContainerEngine::Docker);
    assert!(containers.options.is_empty());
    assert_eq!(config.slurm.unwrap().mode, SlurmMode::Srun);
}

#[test]
fn sizes_accept_units_and_plain_bytes() {
    let memory_of = |value: &str| {
        parse(&format!("local:\n  memory: {value}\n"))
            .unwrap_or_else(|d| panic!("{value}: {}", render_plain(&d)))
            .local
            .memory
    };
    assert_eq!(memory_of("16GiB"), Some(16 * GIB));
    assert_eq!(memory_of("512MiB"), Some(512 << 20));
    assert_eq!(memory_of("2GB"), Some(2_000_000_000));
    assert_eq!(memory_of("\"1TiB\""), Some(1 << 40));
    assert_eq!(memory_of("1048576"), Some(1 << 20));
    assert_eq!(parse_size("16GiB"), Some(16 * GIB));
}

#[test]
fn local_resource_uses_the_file_and_detects_the_rest() {
    let config = parse(
        "local:\n  cores: 3\n  memory: 2GiB\n  gpus: 2\n  labels: [blast, gpu]\n  arch: aarch64\n",
    )
    .unwrap();
    let resources = config.resources();
    assert_eq!(resources.len(), 1);
    let local = &resources[0];
    assert_eq!(local.name, "local");
    assert!(!local.hostname.is_empty());
    assert_eq!(local.cores, 3);
    assert_eq!(local.memory, 2 * GIB);
    assert_eq!(local.gpus, 2);
    assert_eq!(local.labels, vec!["blast", "gpu"]);
    assert_eq!(local.arch, "aarch64");
    assert_eq!(local.os, std::env::consts::OS);
    assert_eq!(local.disk, None);

    let detected = &Config::default().resources()[0];
    let logical_cpus = std::thread::available_parallelism().unwrap().get();
    assert_eq!(detected.cores as usize, logical_cpus);
    assert!(detected.memory > 0);
    assert_eq!(detected.arch, std::env::consts::ARCH);
    assert!(detected.labels.is_empty());
}

#[test]
fn ssh_resources_are_one_per_host_in_order() {
    let config = parse(
        "executor: ssh\nssh:\n  hosts:\n    - {host: a, cores: 2, memory: 1GiB, gpus: 1, labels: [x]}\n    - {host: b, cores: 8, os: freebsd}\n",
    )
    .unwrap();
    let resources = config.resources();
    assert_eq!(resources.len(), 2);
    assert_eq!((resources[0].name.as_str(), resources[0].cores), ("a", 2));
    assert_eq!(resources[0].memory, GIB);
    assert_eq!(resources[0].gpus, 1);
    assert_eq!(resources[0].labels, vec!["x"]);
    assert_eq!(resources[0].os, "linux");
    assert_eq!(
        (resources[1].hostname.as_str(), resources[1].cores),
        ("b", 8)
    );
    assert_eq!(
        resources[1].memory,
        u64::MAX,
        "memory not declared is not accounted"
    );
    assert_eq!(resources[1].gpus, 0);
    assert_eq!(resources[1].os, "freebsd");
}

#[test]
fn unknown_field_points_at_the_key_and_lists_the_allowed_ones() {
    let diagnostic = parse_err("executor: local\nlocal:\n  cors: 4\n  memory: 1GiB\n");
    assert_eq!(diagnostic.code, Code::Config);
    assert_eq!(diagnostic.line_col(), (3, 3));
    assert_eq!(spanned(&diagnostic), "cors");
    insta::assert_snapshot!(render_plain(&diagnostic));
}

#[test]
fn unknown_top_level_section_is_reported() {
    let diagnostic = parse_err("executor: local\nlocl:\n  cores: 2\n");
    assert_eq!(diagnostic.line_col(), (2, 1));
    assert_eq!(spanned(&diagnostic), "locl");
    insta::assert_snapshot!(render_plain(&diagnostic));
}

#[test]
fn size_without_a_known_unit_asks_for_one() {
    let diagnostic = parse_err("local:\n  cores: 2\n  memory: 16G   # oops\n");
    assert_eq!(diagnostic.code, Code::Config);
    assert_eq!(diagnostic.line_col(), (3, 11));
    assert_eq!(spanned(&diagnostic), "16G");
    assert!(diagnostic.help.as_deref().unwrap().contains("16GiB"));
    insta::assert_snapshot!(render_plain(&diagnostic));
}

#[test]
fn size_in_an_ssh_host_is_located() {
    let diagnostic = parse_err(
        "executor: ssh\nssh:\n  hosts:\n    - host: n1\n      cores: 2\n      memory: lots\n",
    );
    assert_eq!(diagnostic.line_col(), (6, 15));
    assert_eq!(spanned(&diagnostic), "lots");
    insta::assert_snapshot!(render_plain(&diagnostic));
}

#[test]
fn bad_executor_value_lists_the_choices() {
    let diagnostic = parse_err("# weft configuration\nexecutor: slurmm\n");
    assert_eq!(diagnostic.code, Code::Config);
    assert_eq!(diagnostic.line_col(), (2, 11));
    assert_eq!(spanned(&diagnostic), "slurmm");
    insta::assert_snapshot!(render_plain(&diagnostic));
}

#[test]
fn bad_engine_value_lists_the_choices() {
    let diagnostic = parse_err("containers:\n  engine: singularity\n");
    assert_eq!(diagnostic.line_col(), (2, 11));
    let help = diagnostic.help.as_deref().unwrap();
    assert!(help.contains("docker, podman, apptainer"), "{help}");
}

#[test]
fn zero_cores_are_refused() {
    let diagnostic = parse_err("local:\n  cores: 0\n");
    assert_eq!(diagnostic.line_col(), (2, 10));
    assert_eq!(spanned(&diagnostic), "0");
    insta::assert_snapshot!(render_plain(&diagnostic));
}

#[test]
fn a_required_count_left_empty_is_refused() {
    let diagnostic = parse_err("executor: ssh\nssh:\n  hosts:\n    - host: n1\n      cores:\n");
    assert_eq!(
        diagnostic.message,
        "bad number of cores null for `ssh.hosts[0].cores`"
    );
    let diagnostic = parse_err("local:\n  cores: many\n");
    assert_eq!(
        diagnostic.message,
        "bad number of cores \"many\" for `local.cores`"
    );
    assert_eq!(diagnostic.line_col(), (2, 10));
}

#[test]
fn wrong_type_is_located() {
    let diagnostic = parse_err("local:\n  gpus: two\n");
    assert_eq!(diagnostic.line_col(), (2, 9));
    assert_eq!(spanned(&diagnostic), "two");
    insta::assert_snapshot!(render_plain(&diagnostic));
}

#[test]
fn a_document_that_is_not_a_mapping_is_refused() {
    let diagnostic = parse_err("- local\n- ssh\n");
    assert_eq!(diagnostic.code, Code::Config);
    assert_eq!(diagnostic.line_col(), (1, 1));
    assert!(
        diagnostic
            .message
            .starts_with("expected a mapping of sections"),
        "{}",
        diagnostic.message
    );
    let diagnostic = parse_err("local: 8\n");
    assert_eq!(diagnostic.line_col(), (1, 8));
    assert_eq!(
        diagnostic.message,
        "expected a mapping of fields for `local`, found integer `8`"
    );
}

#[test]
fn duplicate_keys_are_refused() {
    let diagnostic = parse_err("local:\n  cores: 2\n  # more\n  cores: 4\n");
    assert_eq!(diagnostic.code, Code::Config);
    assert_eq!(diagnostic.line_col(), (4, 3));
    assert_eq!(spanned(&diagnostic), "cores");
    insta::assert_snapshot!(render_plain(&diagnostic));

    let in_a_host = parse_err(
        "executor: ssh\nssh:\n  hosts:\n    - host: a\n      cores: 1\n    - host: b\n      cores: 1\n      host: c\n",
    );
    assert_eq!(in_a_host.line_col(), (8, 7));
    assert_eq!(
        in_a_host.related[0].span.start,
        in_a_host.file.text.find("host: b").unwrap()
    );
}

#[test]
fn missing_host_field_is_reported() {
    let diagnostic = parse_err("executor: ssh\nssh:\n  hosts:\n    - host: n1\n      user: bob\n");
    assert_eq!(diagnostic.code, Code::Config);
    assert!(
        diagnostic.message.contains("lacks the field `cores`"),
        "{}",
        diagnostic.message
    );
    insta::assert_snapshot!(render_plain(&diagnostic));
}

#[test]
fn ssh_executor_without_hosts_is_an_error_at_the_executor() {
    let diagnostic = parse_err("local:\n  cores: 2\nexecutor: ssh\n");
    assert_eq!(diagnostic.line_col(), (3, 11));
    assert_eq!(spanned(&diagnostic), "ssh");
    insta::assert_snapshot!(render_plain(&diagnostic));
}

#[test]
fn malformed_yaml_is_located() {
    let diagnostic = parse_err("local:\n  cores: 2\n labels: [a\n");
    assert_eq!(diagnostic.code, Code::Config);
    let (line, _) = diagnostic.line_col();
    assert!(line >= 2, "line {line}");
    assert!(
        !diagnostic.message.contains(" at line "),
        "{}",
        diagnostic.message
    );
    insta::assert_snapshot!(render_plain(&diagnostic));
}

#[test]
fn the_default_file_beside_the_workflow_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let workflow = dir.path().join("main.wf");
    std::fs::write(&workflow, "workflow main() {}\n").unwrap();

    // No weft.yaml: the built-in default.
    assert_eq!(
        Config::for_workflow(&workflow, None).unwrap(),
        Config::default()
    );

    std::fs::write(dir.path().join(DEFAULT_FILE_NAME), "local:\n  cores: 3\n").unwrap();
    assert_eq!(
        Config::for_workflow(&workflow, None).unwrap().local.cores,
        Some(3)
    );

    // An explicit file wins over the one beside the workflow.
    let explicit = dir.path().join("other.yaml");
    std::fs::write(&explicit, "local:\n  cores: 5\n").unwrap();
    assert_eq!(
        Config::for_workflow(&workflow, Some(&explicit))
            .unwrap()
            .local
            .cores,
        Some(5)
    );
}

#[test]
fn errors_in_a_loaded_file_name_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let workflow = dir.path().join("main.wf");
    let config_path = dir.path().join(DEFAULT_FILE_NAME);
    std::fs::write(&config_path, "local:\n  memory: 3 apples\n").unwrap();
    let diagnostic = Config::for_workflow(&workflow, None).unwrap_err();
    assert_eq!(diagnostic.file.path, config_path);
    assert_eq!(diagnostic.to_json()["line"], 2);
    assert_eq!(diagnostic.to_json()["column"], 11);
    assert_eq!(diagnostic.to_json()["code"], "weft::config");
}

#[test]
fn a_missing_explicit_file_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    let diagnostic = Config::for_workflow(&dir.path().join("main.wf"), Some(&missing)).unwrap_err();
    assert_eq!(diagnostic.code, Code::Config);
    assert!(
        diagnostic.message.contains("nope.yaml"),
        "{}",
        diagnostic.message
    );
}

#[test]
fn the_json_schema_describes_every_section() {
    let schema = json_schema();
    // It is JSON text that parses back to itself.
    let text = serde_json::to_string_pretty(&schema).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        schema
    );

    let properties = schema["properties"]
        .as_object()
        .expect("top-level properties");
    let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["containers", "executor", "local", "slurm", "ssh"]);
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema["required"].as_array().is_none_or(|r| r.is_empty()));

    // The executor enum and the size format are spelled out.
    let text = schema.to_string();
    for needle in [
        "\"local\"",
        "\"ssh\"",
        "\"slurm\"",
        "\"apptainer\"",
        "\"sbatch\"",
        "GiB",
    ] {
        assert!(text.contains(needle), "schema lacks {needle}");
    }
    let memory = &schema["definitions"]["LocalConfig"]["properties"]["memory"];
    let kinds: Vec<&str> = memory["oneOf"]
        .as_array()
        .expect("size is string or integer")
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["string", "integer"]);
}
