//! The resource pool (LANGUAGE.md §8.2): reservations, GPUs, matching, implementations,
//! unsatisfiable tasks and multinode tasks.

use indexmap::IndexMap;
use weft_compiler::config::ResourceSpec;
use weft_compiler::value::Value;
use weft_executor::resources::{Pool, Requirement};

const GIB: u64 = 1 << 30;

fn resource(name: &str, cores: u32, memory: u64, gpus: u32) -> ResourceSpec {
    ResourceSpec {
        name: name.to_string(),
        hostname: format!("{name}.example.org"),
        cores,
        memory,
        gpus,
        disk: None,
        labels: Vec::new(),
        arch: "x86_64".to_string(),
        os: "linux".to_string(),
    }
}

fn cores(n: u32) -> Requirement {
    Requirement {
        cores: n,
        ..Requirement::default()
    }
}

fn constraint(entries: &[(&str, Value)]) -> Result<Requirement, String> {
    let map: IndexMap<String, Value> = entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Requirement::from_constraints(&map)
}

#[test]
fn a_constraint_becomes_a_requirement() {
    let req = constraint(&[
        ("cores", Value::Int(4)),
        ("memory", Value::Int(2 * GIB as i64)),
        ("gpus", Value::Int(1)),
        ("disk", Value::Int(10_000)),
        ("arch", Value::str("x86_64")),
        ("os", Value::str("linux")),
        (
            "labels",
            Value::list(vec![Value::str("blast"), Value::str("db")]),
        ),
        ("walltime", Value::Float(90.0)),
    ])
    .unwrap();
    assert_eq!(
        req,
        Requirement {
            cores: 4,
            memory: 2 * GIB,
            gpus: 1,
            disk: 10_000,
            arch: Some("x86_64".into()),
            os: Some("linux".into()),
            labels: vec!["blast".into(), "db".into()],
            walltime: Some(90.0),
        }
    );
}

#[test]
fn no_constraint_is_one_core() {
    let req = constraint(&[]).unwrap();
    assert_eq!(req, cores(1));
    assert_eq!(req.memory, 0);
    assert_eq!(constraint(&[("memory", Value::Null)]).unwrap(), cores(1));
}

#[test]
fn values_from_the_environment_are_read_as_numbers_and_sizes() {
    let req = constraint(&[
        ("cores", Value::str("8")),
        ("memory", Value::str("512MiB")),
        ("labels", Value::str("blast")),
        ("walltime", Value::Int(60)),
    ])
    .unwrap();
    assert_eq!(req.cores, 8);
    assert_eq!(req.memory, 512 << 20);
    assert_eq!(req.labels, vec!["blast"]);
    assert_eq!(req.walltime, Some(60.0));
}

#[test]
fn bad_constraints_are_explained() {
    let err = constraint(&[("corse", Value::Int(1))]).unwrap_err();
    assert!(err.contains("unknown constraint key `corse`"), "{err}");
    assert!(err.contains("cores, memory, gpus"), "{err}");

    let err = constraint(&[("cores", Value::Int(-2))]).unwrap_err();
    assert_eq!(
        err,
        "constraint `cores` must be a non-negative integer, found int -2"
    );

    let err = constraint(&[("memory", Value::str("lots"))]).unwrap_err();
    assert!(
        err.starts_with("constraint `memory` must be a size"),
        "{err}"
    );

    let err = constraint(&[("labels", Value::list(vec![Value::Int(1)]))]).unwrap_err();
    assert!(err.contains("a list of str"), "{err}");

    let err = constraint(&[("arch", Value::Int(64))]).unwrap_err();
    assert!(err.contains("`arch` must be a str"), "{err}");

    let err = constraint(&[("walltime", Value::Float(-1.0))]).unwrap_err();
    assert!(err.contains("`walltime`"), "{err}");
}

#[test]
fn two_tasks_of_two_cores_cannot_overlap_on_two_cores() {
    let mut pool = Pool::new(vec![resource("local", 2, 8 * GIB, 0)]);
    let first = pool
        .try_reserve(&cores(2), None, None)
        .expect("idle resource");
    assert_eq!(first.resource, 0);
    assert_eq!(pool.free_cores(0), 0);
    assert!(!pool.fits_on(0, &cores(2)));
    assert!(pool.try_reserve(&cores(2), None, None).is_none());
    assert!(pool.try_reserve(&cores(1), None, None).is_none());

    pool.release(first);
    assert!(pool.is_idle(0));
    assert!(pool.try_reserve(&cores(2), None, None).is_some());
}

#[test]
fn one_core_tasks_share_a_resource_up_to_its_cores() {
    let mut pool = Pool::new(vec![resource("local", 3, 8 * GIB, 0)]);
    let held: Vec<_> = (0..3)
        .map(|_| {
            pool.try_reserve(&cores(1), None, None)
                .expect("a core is free")
        })
        .collect();
    assert!(pool.try_reserve(&cores(1), None, None).is_none());
    for reservation in held {
        pool.release(reservation);
    }
    assert_eq!(pool.free_cores(0), 3);
}

#[test]
fn memory_is_reserved_and_released() {
    let mut pool = Pool::new(vec![resource("local", 8, 4 * GIB, 0)]);
    let three_gib = Requirement {
        memory: 3 * GIB,
        ..cores(1)
    };
    let held = pool.try_reserve(&three_gib, None, None).unwrap();
    assert_eq!(pool.free_memory(0), GIB);
    assert!(
        pool.try_reserve(&three_gib, None, None).is_none(),
        "cores are free, memory is not"
    );
    let one_gib = Requirement {
        memory: GIB,
        ..cores(1)
    };
    let small = pool
        .try_reserve(&one_gib, None, None)
        .expect("exactly what is left");
    pool.release(held);
    pool.release(small);
    assert_eq!(pool.free_memory(0), 4 * GIB);

    let too_much = Requirement {
        memory: 5 * GIB,
        ..cores(1)
    };
    assert!(!pool.can_ever_fit(&too_much));
    assert_eq!(
        pool.unsatisfiable_reason(&too_much),
        "local has 4GiB of memory, the task needs 5GiB"
    );
}

#[test]
fn gpus_are_numbered_and_handed_out_lowest_first() {
    let mut pool = Pool::new(vec![resource("local", 8, 8 * GIB, 3)]);
    let one_gpu = Requirement {
        gpus: 1,
        ..cores(1)
    };
    let a = pool.try_reserve(&one_gpu, None, None).unwrap();
    let b = pool.try_reserve(&one_gpu, None, None).unwrap();
    assert_eq!(a.gpus, vec![0]);
    assert_eq!(b.gpus, vec![1]);
    assert_eq!(pool.free_gpus(0), vec![2]);

    // GPU 0 comes back; the next two-GPU task gets 0 and 2, the free ones.
    pool.release(a);
    let two_gpus = Requirement {
        gpus: 2,
        ..cores(1)
    };
    let c = pool.try_reserve(&two_gpus, None, None).unwrap();
    assert_eq!(c.gpus, vec![0, 2]);
    assert!(pool.try_reserve(&one_gpu, None, None).is_none());
    pool.release(b);
    pool.release(c);
    assert_eq!(pool.free_gpus(0), vec![0, 1, 2]);
    assert!(pool.is_idle(0));
}

#[test]
fn a_task_without_gpus_gets_none() {
    let mut pool = Pool::new(vec![resource("local", 2, GIB, 2)]);
    let reservation = pool.try_reserve(&cores(1), None, None).unwrap();
    assert!(reservation.gpus.is_empty());
    assert_eq!(pool.free_gpus(0), vec![0, 1]);
}

#[test]
fn labels_must_all_be_carried() {
    let mut plain = resource("plain", 4, GIB, 0);
    plain.labels = vec!["db".into()];
    let mut blast = resource("blast", 4, GIB, 0);
    blast.labels = vec!["blast".into(), "db".into()];
    let mut pool = Pool::new(vec![plain, blast]);

    let needs_blast = Requirement {
        labels: vec!["blast".into(), "db".into()],
        ..cores(1)
    };
    assert!(!pool.serves_when_idle(0, &needs_blast));
    assert!(pool.serves_when_idle(1, &needs_blast));
    let reservation = pool.try_reserve(&needs_blast, None, None).unwrap();
    assert_eq!(
        reservation.resource, 1,
        "only the second resource carries both labels"
    );

    let needs_unknown = Requirement {
        labels: vec!["matlab".into()],
        ..cores(1)
    };
    assert!(!pool.can_ever_fit(&needs_unknown));
    assert_eq!(
        pool.unsatisfiable_reason(&needs_unknown),
        "plain lacks the label matlab; blast lacks the label matlab"
    );
}

#[test]
fn arch_and_os_must_match() {
    let mut arm = resource("arm", 4, GIB, 0);
    arm.arch = "aarch64".into();
    let mut pool = Pool::new(vec![resource("intel", 4, GIB, 0), arm]);
    let on_arm = Requirement {
        arch: Some("aarch64".into()),
        ..cores(1)
    };
    assert_eq!(pool.try_reserve(&on_arm, None, None).unwrap().resource, 1);
    let on_linux = Requirement {
        os: Some("linux".into()),
        ..cores(1)
    };
    assert!(pool.can_ever_fit(&on_linux));
    let on_windows = Requirement {
        os: Some("windows".into()),
        ..cores(1)
    };
    assert!(!pool.can_ever_fit(&on_windows));
    assert!(pool
        .unsatisfiable_reason(&on_windows)
        .starts_with("intel runs linux, not windows"));
}

#[test]
fn preferred_resource_gives_round_robin_placement() {
    let mut pool = Pool::new(vec![
        resource("a", 4, GIB, 0),
        resource("b", 4, GIB, 0),
        resource("c", 4, GIB, 0),
    ]);
    // A `distributed` task: the dispatcher advances its counter for each call.
    let placed: Vec<usize> = (0..4)
        .map(|call| {
            pool.try_reserve(&cores(1), Some(call), None)
                .unwrap()
                .resource
        })
        .collect();
    assert_eq!(placed, vec![0, 1, 2, 0]);

    // Without a preference, the first resource with room wins.
    let mut pool = Pool::new(vec![resource("a", 1, GIB, 0), resource("b", 1, GIB, 0)]);
    assert_eq!(pool.try_reserve(&cores(1), None, None).unwrap().resource, 0);
    assert_eq!(pool.try_reserve(&cores(1), None, None).unwrap().resource, 1);
    // The preferred resource is full: the search goes on round-robin, and finds none.
    assert!(pool.try_reserve(&cores(1), Some(1), None).is_none());
}

#[test]
fn a_retry_avoids_the_resource_it_failed_on() {
    let mut pool = Pool::new(vec![resource("a", 1, GIB, 0), resource("b", 1, GIB, 0)]);
    let retry = pool.try_reserve(&cores(1), None, Some(0)).unwrap();
    assert_eq!(retry.resource, 1);
    pool.release(retry);

    // The other resource is busy: the retry waits for it rather than going back to `a`.
    let busy = pool.try_reserve_on(1, &cores(1)).unwrap();
    assert!(pool.try_reserve(&cores(1), None, Some(0)).is_none());
    assert!(pool.fits_on(0, &cores(1)), "`a` is free all the same");
    pool.release(busy);
    assert_eq!(
        pool.try_reserve(&cores(1), None, Some(0)).unwrap().resource,
        1
    );

    // With a single resource, the retry goes back to it.
    let mut single = Pool::new(vec![resource("local", 2, GIB, 0)]);
    assert_eq!(
        single
            .try_reserve(&cores(1), None, Some(0))
            .unwrap()
            .resource,
        0
    );

    // Only the avoided resource can ever serve the task: it goes back there.
    let mut big = Pool::new(vec![
        resource("small", 1, GIB, 0),
        resource("big", 8, GIB, 0),
    ]);
    assert_eq!(
        big.try_reserve(&cores(4), None, Some(1)).unwrap().resource,
        1
    );
}

#[test]
fn replicated_tasks_reserve_on_a_given_resource() {
    let mut pool = Pool::new(vec![resource("a", 1, GIB, 0), resource("b", 1, GIB, 0)]);
    let on_b = pool.try_reserve_on(1, &cores(1)).unwrap();
    assert_eq!(on_b.resource, 1);
    assert!(pool.try_reserve_on(1, &cores(1)).is_none());
    assert!(
        pool.try_reserve_on(7, &cores(1)).is_none(),
        "no such resource"
    );
    assert_eq!(pool.free_cores(0), 1);
}

#[test]
fn the_first_implementation_the_resource_satisfies_is_picked() {
    let gpu_impl = Requirement {
        gpus: 1,
        ..cores(1)
    };
    let portable = cores(1);
    let impls = [gpu_impl, portable];

    let pool = Pool::new(vec![resource("cpu", 4, GIB, 0), resource("gpu", 4, GIB, 2)]);
    assert_eq!(
        pool.pick_impl(0, &impls),
        Some(1),
        "no GPU: the portable impl"
    );
    assert_eq!(
        pool.pick_impl(1, &impls),
        Some(0),
        "a GPU: the first impl, in source order"
    );
    assert_eq!(pool.pick_impl(5, &impls), None);

    let needs_labels = Requirement {
        labels: vec!["x".into()],
        ..cores(1)
    };
    assert_eq!(pool.pick_impl(0, std::slice::from_ref(&needs_labels)), None);
    assert!(!pool.can_ever_fit_any(&[needs_labels]));
    assert!(pool.can_ever_fit_any(&impls));
}

#[test]
fn a_busy_resource_makes_the_task_wait_rather_than_fall_back_to_a_later_impl() {
    let gpu_impl = Requirement {
        gpus: 1,
        ..cores(1)
    };
    let impls = [gpu_impl.clone(), cores(1)];
    let mut pool = Pool::new(vec![resource("gpu", 4, GIB, 1)]);
    let (chosen, first) = pool.try_reserve_impl(&impls, None, None).unwrap();
    assert_eq!((chosen, first.gpus.clone()), (0, vec![0]));
    // The GPU is taken; the resource still picks the GPU impl, so the call waits.
    assert!(pool.try_reserve_impl(&impls, None, None).is_none());
    pool.release(first);
    assert_eq!(pool.try_reserve_impl(&impls, None, None).unwrap().0, 0);

    // On a pool of a CPU node and a GPU node, each runs its own implementation.
    let mut mixed = Pool::new(vec![resource("cpu", 4, GIB, 0), resource("gpu", 4, GIB, 1)]);
    let (on_cpu, at_cpu) = mixed.try_reserve_impl(&impls, None, None).unwrap();
    assert_eq!((on_cpu, at_cpu.resource), (1, 0));
    let (on_gpu, at_gpu) = mixed.try_reserve_impl(&impls, Some(1), None).unwrap();
    assert_eq!((on_gpu, at_gpu.resource), (0, 1));
}

#[test]
fn unsatisfiable_requirements_are_detected() {
    let pool = Pool::new(vec![resource("local", 2, 4 * GIB, 0)]);
    assert!(pool.can_ever_fit(&cores(2)));
    assert!(!pool.can_ever_fit(&cores(3)));
    assert_eq!(
        pool.unsatisfiable_reason(&cores(3)),
        "local has 2 cores, the task needs 3"
    );
    let gpu = Requirement {
        gpus: 1,
        ..cores(1)
    };
    assert!(!pool.can_ever_fit(&gpu));
    assert_eq!(
        pool.unsatisfiable_reason(&gpu),
        "local has 0 GPUs, the task needs 1"
    );
    assert!(!Pool::new(Vec::new()).can_ever_fit(&cores(1)));

    // Scratch disk counts where the resource declares it, and only there.
    let mut with_disk = resource("scratch", 2, GIB, 0);
    with_disk.disk = Some(10 * GIB);
    let disk_pool = Pool::new(vec![with_disk]);
    let big_disk = Requirement {
        disk: 20 * GIB,
        ..cores(1)
    };
    assert!(!disk_pool.can_ever_fit(&big_disk));
    assert!(
        pool.can_ever_fit(&big_disk),
        "disk is not accounted on `local`"
    );
}

#[test]
fn scratch_disk_is_reserved_where_accounted() {
    let mut with_disk = resource("scratch", 4, GIB, 0);
    with_disk.disk = Some(10 * GIB);
    let mut pool = Pool::new(vec![with_disk, resource("plain", 4, GIB, 0)]);
    let six = Requirement {
        disk: 6 * GIB,
        ..cores(1)
    };
    let first = pool.try_reserve(&six, None, None).unwrap();
    assert_eq!((first.resource, first.disk), (0, 6 * GIB));
    let second = pool.try_reserve(&six, None, None).unwrap();
    assert_eq!(
        (second.resource, second.disk),
        (1, 0),
        "not enough left on the first"
    );
    pool.release(first);
    pool.release(second);
    assert!(pool.is_idle(0) && pool.is_idle(1));
}

#[test]
fn multinode_reserves_distinct_resources_or_nothing() {
    let mut single = Pool::new(vec![resource("local", 4, GIB, 0)]);
    assert!(single.can_ever_fit_nodes(&cores(2), 1));
    assert!(!single.can_ever_fit_nodes(&cores(2), 2));
    assert!(!single.can_ever_fit_nodes(&cores(2), 0));
    let one = single.try_reserve_nodes(&cores(2), 1).unwrap();
    assert_eq!(one.len(), 1);
    assert!(single.try_reserve_nodes(&cores(2), 2).is_none());
    assert_eq!(
        single.free_cores(0),
        2,
        "a failed multinode reservation takes nothing"
    );

    let mut cluster = Pool::new(vec![
        resource("n1", 4, GIB, 0),
        resource("n2", 4, GIB, 0),
        resource("n3", 4, GIB, 0),
    ]);
    let busy = cluster.try_reserve_on(0, &cores(4)).unwrap();
    let nodes = cluster.try_reserve_nodes(&cores(4), 2).unwrap();
    let placed: Vec<usize> = nodes.iter().map(|r| r.resource).collect();
    assert_eq!(placed, vec![1, 2]);
    assert!(cluster.try_reserve_nodes(&cores(1), 1).is_none());
    for reservation in nodes {
        cluster.release(reservation);
    }
    cluster.release(busy);
    assert!(cluster.can_ever_fit_nodes(&cores(4), 3));
    assert!(!cluster.can_ever_fit_nodes(&cores(4), 4));
    assert_eq!(cluster.try_reserve_nodes(&cores(4), 3).unwrap().len(), 3);
}

#[test]
fn releasing_twice_never_makes_room_that_does_not_exist() {
    let mut pool = Pool::new(vec![resource("local", 2, GIB, 1)]);
    let req = Requirement {
        gpus: 1,
        memory: GIB,
        ..cores(2)
    };
    let reservation = pool.try_reserve(&req, None, None).unwrap();
    let forged_copy = weft_executor::resources::Reservation {
        resource: reservation.resource,
        cores: reservation.cores,
        memory: reservation.memory,
        disk: reservation.disk,
        gpus: reservation.gpus.clone(),
    };
    pool.release(reservation);
    pool.release(forged_copy);
    assert_eq!(pool.free_cores(0), 2);
    assert_eq!(pool.free_memory(0), GIB);
    assert_eq!(pool.free_gpus(0), vec![0]);
    assert!(pool.is_idle(0));
}
