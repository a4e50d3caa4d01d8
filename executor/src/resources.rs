//! The resource pool the dispatcher places task attempts on (LANGUAGE.md §8.2).
//!
//! A [`Requirement`] is a task's evaluated `constraint`; the [`Pool`] holds the configured
//! resources ([`ResourceSpec`], in configuration order) with what is free on each: cores,
//! memory, scratch disk and *which* GPUs, so that `CUDA_VISIBLE_DEVICES`/`WEFT_GPUS` name
//! exactly the GPUs a task was given. A task runs on a resource only while its reservation fits
//! in what is free there.
//!
//! Everything here is deterministic (the first resource in configuration order wins, GPUs are
//! handed out lowest id first) and costs O(resources) per call, so the dispatcher can ask again
//! every time something completes.

use indexmap::IndexMap;
use weft_compiler::config::{format_size, parse_size, ResourceSpec};
use weft_compiler::value::Value;

/// The keys a `constraint { … }` may hold (§8.2), in the order the reference lists them.
pub const CONSTRAINT_KEYS: [&str; 8] = [
    "cores", "memory", "gpus", "disk", "arch", "os", "labels", "walltime",
];

/// What one task attempt needs from the resource it runs on: an evaluated `constraint`.
#[derive(Clone, Debug, PartialEq)]
pub struct Requirement {
    pub cores: u32,
    /// Bytes.
    pub memory: u64,
    pub gpus: u32,
    /// Bytes of scratch space.
    pub disk: u64,
    pub arch: Option<String>,
    pub os: Option<String>,
    /// The resource must carry every one of these.
    pub labels: Vec<String>,
    /// Expected run time in seconds (passed to Slurm; the pool does not use it).
    pub walltime: Option<f64>,
}

impl Default for Requirement {
    /// A task without a `constraint`: one core (§4.2).
    fn default() -> Requirement {
        Requirement {
            cores: 1,
            memory: 0,
            gpus: 0,
            disk: 0,
            arch: None,
            os: None,
            labels: Vec::new(),
            walltime: None,
        }
    }
}

impl Requirement {
    /// The requirement of an evaluated `constraint { key: value, … }`; keys left out keep
    /// their defaults, and so does a key whose value is `null`. Sizes are ints of bytes (a
    /// size literal is one); a str such as `"16GiB"` — what `env("MEM")` gives — is read as a
    /// size too, and a str of digits as a count, so that constraints can come from the
    /// environment. The error is a message for `weft::constraint`.
    pub fn from_constraints(entries: &IndexMap<String, Value>) -> Result<Requirement, String> {
        let mut requirement = Requirement::default();
        for (key, value) in entries {
            if *value == Value::Null {
                continue;
            }
            match key.as_str() {
                "cores" => requirement.cores = count(key, value)?,
                "gpus" => requirement.gpus = count(key, value)?,
                "memory" => requirement.memory = size(key, value)?,
                "disk" => requirement.disk = size(key, value)?,
                "arch" => requirement.arch = Some(text(key, value)?),
                "os" => requirement.os = Some(text(key, value)?),
                "labels" => requirement.labels = labels(value)?,
                "walltime" => requirement.walltime = Some(seconds(key, value)?),
                unknown => {
                    return Err(format!(
                        "unknown constraint key `{unknown}`; the keys are {}",
                        CONSTRAINT_KEYS.join(", ")
                    ))
                }
            }
        }
        Ok(requirement)
    }
}

fn count(key: &str, value: &Value) -> Result<u32, String> {
    let number = match value {
        Value::Int(n) => Some(*n),
        Value::Str(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    number
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| bad_value(key, "a non-negative integer", value))
}

fn size(key: &str, value: &Value) -> Result<u64, String> {
    let bytes = match value {
        Value::Int(n) => u64::try_from(*n).ok(),
        Value::Str(s) => parse_size(s),
        _ => None,
    };
    bytes.ok_or_else(|| bad_value(key, "a size such as 16GiB (an int of bytes)", value))
}

fn text(key: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::Str(s) => Ok(s.to_string()),
        _ => Err(bad_value(key, "a str", value)),
    }
}

fn labels(value: &Value) -> Result<Vec<String>, String> {
    match value {
        // One label alone is as clear as a list of one.
        Value::Str(s) => Ok(vec![s.to_string()]),
        Value::List(items) => items
            .iter()
            .map(|item| match item {
                Value::Str(s) => Ok(s.to_string()),
                other => Err(bad_value("labels", "a list of str", other)),
            })
            .collect(),
        _ => Err(bad_value("labels", "a list of str", value)),
    }
}

fn seconds(key: &str, value: &Value) -> Result<f64, String> {
    let seconds = match value {
        Value::Float(f) => Some(*f),
        // Exact for every duration anyone would write (below 2^53 seconds).
        Value::Int(n) => Some(*n as f64),
        Value::Str(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    seconds
        .filter(|s| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| bad_value(key, "a duration such as 30m", value))
}

fn bad_value(key: &str, expected: &str, found: &Value) -> String {
    format!(
        "constraint `{key}` must be {expected}, found {} {found}",
        found.kind_name()
    )
}

/// What an attempt holds on one resource until it is released. Only [`Pool`] makes them;
/// give each back to [`Pool::release`] once.
#[derive(Debug, PartialEq, Eq)]
pub struct Reservation {
    /// The index of the resource in the pool (configuration order).
    pub resource: usize,
    pub cores: u32,
    pub memory: u64,
    /// Scratch space taken (0 where disk is not accounted).
    pub disk: u64,
    /// The GPU ids given to the attempt, ascending.
    pub gpus: Vec<u32>,
}

/// One resource and what is free on it now.
#[derive(Clone, Debug)]
struct Slot {
    spec: ResourceSpec,
    free_cores: u32,
    free_memory: u64,
    /// `None` where the resource does not account disk.
    free_disk: Option<u64>,
    /// `gpu_free[id]`: whether GPU `id` is free.
    gpu_free: Vec<bool>,
    free_gpu_count: u32,
}

impl Slot {
    fn new(spec: ResourceSpec) -> Slot {
        Slot {
            free_cores: spec.cores,
            free_memory: spec.memory,
            free_disk: spec.disk,
            gpu_free: vec![true; spec.gpus as usize],
            free_gpu_count: spec.gpus,
            spec,
        }
    }

    /// Labels, architecture and operating system: what no amount of waiting changes.
    fn matches(&self, req: &Requirement) -> bool {
        self.first_mismatch(req).is_none()
    }

    fn first_mismatch(&self, req: &Requirement) -> Option<String> {
        let spec = &self.spec;
        if let Some(arch) = req.arch.as_deref().filter(|arch| *arch != spec.arch) {
            return Some(format!("{} is {}, not {arch}", spec.name, spec.arch));
        }
        if let Some(os) = req.os.as_deref().filter(|os| *os != spec.os) {
            return Some(format!("{} runs {}, not {os}", spec.name, spec.os));
        }
        let missing: Vec<&str> = req
            .labels
            .iter()
            .filter(|label| !spec.labels.contains(label))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Some(format!(
                "{} lacks the label{} {}",
                spec.name,
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ));
        }
        None
    }

    /// Why the resource could not serve the requirement even when idle, if it could not.
    fn idle_shortfall(&self, req: &Requirement) -> Option<String> {
        if let Some(mismatch) = self.first_mismatch(req) {
            return Some(mismatch);
        }
        let spec = &self.spec;
        if req.cores > spec.cores {
            return Some(format!(
                "{} has {} cores, the task needs {}",
                spec.name, spec.cores, req.cores
            ));
        }
        if req.memory > spec.memory {
            return Some(format!(
                "{} has {} of memory, the task needs {}",
                spec.name,
                format_size(spec.memory),
                format_size(req.memory)
            ));
        }
        if req.gpus > spec.gpus {
            return Some(format!(
                "{} has {} GPUs, the task needs {}",
                spec.name, spec.gpus, req.gpus
            ));
        }
        match spec.disk {
            Some(disk) if req.disk > disk => Some(format!(
                "{} has {} of disk, the task needs {}",
                spec.name,
                format_size(disk),
                format_size(req.disk)
            )),
            _ => None,
        }
    }

    fn serves_when_idle(&self, req: &Requirement) -> bool {
        self.idle_shortfall(req).is_none()
    }

    fn fits_now(&self, req: &Requirement) -> bool {
        self.matches(req)
            && req.cores <= self.free_cores
            && req.memory <= self.free_memory
            && req.gpus <= self.free_gpu_count
            && self.free_disk.is_none_or(|free| req.disk <= free)
    }

    /// Takes the requirement from what is free; the caller has checked `fits_now`.
    fn reserve(&mut self, resource: usize, req: &Requirement) -> Reservation {
        self.free_cores -= req.cores;
        self.free_memory -= req.memory;
        let disk = match self.free_disk.as_mut() {
            Some(free) => {
                *free -= req.disk;
                req.disk
            }
            None => 0,
        };
        let gpus: Vec<u32> = self
            .gpu_free
            .iter()
            .enumerate()
            .filter(|(_, free)| **free)
            .map(|(id, _)| id as u32)
            .take(req.gpus as usize)
            .collect();
        for &id in &gpus {
            self.gpu_free[id as usize] = false;
        }
        self.free_gpu_count -= req.gpus;
        Reservation {
            resource,
            cores: req.cores,
            memory: req.memory,
            disk,
            gpus,
        }
    }

    /// Gives a reservation back, never beyond the resource's capacity, so that a reservation
    /// released twice cannot make room that does not exist.
    fn release(&mut self, reservation: &Reservation) {
        self.free_cores = self
            .free_cores
            .saturating_add(reservation.cores)
            .min(self.spec.cores);
        self.free_memory = self
            .free_memory
            .saturating_add(reservation.memory)
            .min(self.spec.memory);
        if let (Some(free), Some(capacity)) = (self.free_disk.as_mut(), self.spec.disk) {
            *free = free.saturating_add(reservation.disk).min(capacity);
        }
        for &id in &reservation.gpus {
            if let Some(free @ false) = self.gpu_free.get_mut(id as usize) {
                *free = true;
                self.free_gpu_count += 1;
            }
        }
    }
}

/// The configured resources and what is free on each.
#[derive(Clone, Debug)]
pub struct Pool {
    slots: Vec<Slot>,
}

impl Pool {
    pub fn new(resources: Vec<ResourceSpec>) -> Pool {
        Pool {
            slots: resources.into_iter().map(Slot::new).collect(),
        }
    }

    /// The number of resources.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The description of resource `resource`.
    ///
    /// # Panics
    /// If `resource` is not an index of the pool.
    pub fn spec(&self, resource: usize) -> &ResourceSpec {
        &self.slots[resource].spec
    }

    /// Every resource, in configuration order.
    pub fn specs(&self) -> impl Iterator<Item = &ResourceSpec> {
        self.slots.iter().map(|slot| &slot.spec)
    }

    /// Cores free on a resource now (0 for an index outside the pool).
    pub fn free_cores(&self, resource: usize) -> u32 {
        self.slots.get(resource).map_or(0, |slot| slot.free_cores)
    }

    /// Memory free on a resource now, in bytes.
    pub fn free_memory(&self, resource: usize) -> u64 {
        self.slots.get(resource).map_or(0, |slot| slot.free_memory)
    }

    /// The ids of the GPUs free on a resource now, ascending.
    pub fn free_gpus(&self, resource: usize) -> Vec<u32> {
        self.slots.get(resource).map_or_else(Vec::new, |slot| {
            (0..slot.spec.gpus)
                .filter(|&id| slot.gpu_free[id as usize])
                .collect()
        })
    }

    /// Whether nothing is reserved on the resource.
    pub fn is_idle(&self, resource: usize) -> bool {
        self.slots.get(resource).is_some_and(|slot| {
            slot.free_cores == slot.spec.cores
                && slot.free_memory == slot.spec.memory
                && slot.free_gpu_count == slot.spec.gpus
                && slot.free_disk == slot.spec.disk
        })
    }

    /// Whether the resource could serve the requirement once nothing else runs on it.
    pub fn serves_when_idle(&self, resource: usize, req: &Requirement) -> bool {
        self.slots
            .get(resource)
            .is_some_and(|slot| slot.serves_when_idle(req))
    }

    /// Whether some resource could serve the requirement when idle: if not, the task is
    /// `weft::unsatisfiable` and waiting would never help.
    pub fn can_ever_fit(&self, req: &Requirement) -> bool {
        self.slots.iter().any(|slot| slot.serves_when_idle(req))
    }

    /// Whether `n` distinct resources could each serve the requirement when idle (`multinode
    /// n`, `mpi { nodes: n }`).
    pub fn can_ever_fit_nodes(&self, req: &Requirement, n: usize) -> bool {
        n >= 1
            && self
                .slots
                .iter()
                .filter(|slot| slot.serves_when_idle(req))
                .take(n)
                .count()
                == n
    }

    /// Whether some resource could serve one of the implementations when idle (§4.3).
    pub fn can_ever_fit_any(&self, impl_reqs: &[Requirement]) -> bool {
        impl_reqs.iter().any(|req| self.can_ever_fit(req))
    }

    /// Why no resource can serve the requirement, one reason per resource, for the message of
    /// `weft::unsatisfiable` (e.g. `local has 2 cores, the task needs 4`).
    pub fn unsatisfiable_reason(&self, req: &Requirement) -> String {
        if self.slots.is_empty() {
            return "no resource is configured".to_string();
        }
        let reasons: Vec<String> = self
            .slots
            .iter()
            .filter_map(|slot| slot.idle_shortfall(req))
            .collect();
        if reasons.is_empty() {
            "every resource can serve it".to_string()
        } else {
            reasons.join("; ")
        }
    }

    /// Whether the requirement fits in what is free on the resource now.
    pub fn fits_on(&self, resource: usize, req: &Requirement) -> bool {
        self.slots
            .get(resource)
            .is_some_and(|slot| slot.fits_now(req))
    }

    /// Reserves the requirement on the first resource where it fits now.
    ///
    /// `preferred` starts the search at that resource and goes on round-robin (the dispatcher
    /// passes its counter for `distributed` tasks). `avoid` skips that resource (the one a
    /// retried attempt failed on) as long as another resource could serve the task: then the
    /// retry waits for one of those rather than going back; only a task that no other resource
    /// can ever serve is placed on the avoided one again.
    pub fn try_reserve(
        &mut self,
        req: &Requirement,
        preferred: Option<usize>,
        avoid: Option<usize>,
    ) -> Option<Reservation> {
        let resource = self.choose(
            preferred,
            avoid,
            |slot| slot.fits_now(req),
            |slot| slot.serves_when_idle(req),
        )?;
        Some(self.slots[resource].reserve(resource, req))
    }

    /// Reserves the requirement on that very resource if it fits there now (`replicated`
    /// tasks run once on every resource).
    pub fn try_reserve_on(&mut self, resource: usize, req: &Requirement) -> Option<Reservation> {
        let slot = self.slots.get_mut(resource)?;
        slot.fits_now(req).then(|| slot.reserve(resource, req))
    }

    /// For a task with `impl` blocks: on the first resource (in the order of `try_reserve`)
    /// where the implementation that resource would pick ([`Pool::pick_impl`]) fits now,
    /// reserves it. Returns the implementation's index and the reservation.
    pub fn try_reserve_impl(
        &mut self,
        impl_reqs: &[Requirement],
        preferred: Option<usize>,
        avoid: Option<usize>,
    ) -> Option<(usize, Reservation)> {
        let picked = |slot: &Slot| impl_reqs.iter().position(|req| slot.serves_when_idle(req));
        let resource = self.choose(
            preferred,
            avoid,
            |slot| picked(slot).is_some_and(|i| slot.fits_now(&impl_reqs[i])),
            |slot| picked(slot).is_some(),
        )?;
        let chosen = picked(&self.slots[resource])?;
        let reservation = self.slots[resource].reserve(resource, &impl_reqs[chosen]);
        Some((chosen, reservation))
    }

    /// Reserves the requirement on `n` distinct resources at once (the first ones, in
    /// configuration order, where it fits now), or on none.
    pub fn try_reserve_nodes(&mut self, req: &Requirement, n: usize) -> Option<Vec<Reservation>> {
        if n == 0 {
            return None;
        }
        let chosen: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].fits_now(req))
            .take(n)
            .collect();
        if chosen.len() < n {
            return None;
        }
        Some(
            chosen
                .into_iter()
                .map(|i| self.slots[i].reserve(i, req))
                .collect(),
        )
    }

    /// Gives a reservation back.
    pub fn release(&mut self, reservation: Reservation) {
        if let Some(slot) = self.slots.get_mut(reservation.resource) {
            slot.release(&reservation);
        }
    }

    /// The implementation a resource runs (§4.3): the first, in source order, whose
    /// requirement the resource satisfies when idle. Whether it fits *now* is another
    /// question: a busy resource makes the task wait, not fall back to a later `impl`.
    pub fn pick_impl(&self, resource: usize, impl_reqs: &[Requirement]) -> Option<usize> {
        let slot = self.slots.get(resource)?;
        impl_reqs.iter().position(|req| slot.serves_when_idle(req))
    }

    /// The resource to use: the first, from `preferred` on, that fits now, skipping `avoid`
    /// unless no other resource could ever serve the task.
    fn choose(
        &self,
        preferred: Option<usize>,
        avoid: Option<usize>,
        fits_now: impl Fn(&Slot) -> bool,
        serves_when_idle: impl Fn(&Slot) -> bool,
    ) -> Option<usize> {
        let len = self.slots.len();
        if len == 0 {
            return None;
        }
        let start = preferred.unwrap_or(0) % len;
        let order = (0..len).map(|offset| (start + offset) % len);
        if let Some(found) = order
            .clone()
            .filter(|&i| Some(i) != avoid)
            .find(|&i| fits_now(&self.slots[i]))
        {
            return Some(found);
        }
        let avoided = avoid.filter(|&a| a < len)?;
        let another_could_serve = order
            .filter(|&i| i != avoided)
            .any(|i| serves_when_idle(&self.slots[i]));
        (!another_could_serve && fits_now(&self.slots[avoided])).then_some(avoided)
    }
}
