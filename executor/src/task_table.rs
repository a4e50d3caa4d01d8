//! The dispatcher's tasks, by id: task ids are dense (one counter per run, from 0), so a
//! vector indexed by id finds a task without hashing, and keeps them in program order. Each
//! task is boxed: growing the vector then moves pointers, not whole tasks (with a million
//! calls, moving them doubled the peak memory).

use std::ops::{Index, IndexMut};

use weft_compiler::deps::TaskId;

pub struct TaskTable<T> {
    slots: Vec<Option<Box<T>>>,
    len: usize,
}

impl<T> Default for TaskTable<T> {
    fn default() -> Self {
        TaskTable {
            slots: Vec::new(),
            len: 0,
        }
    }
}

impl<T> TaskTable<T> {
    fn slot(id: TaskId) -> usize {
        usize::try_from(id).expect("task ids fit in memory")
    }

    /// Adds a task; ids of nested bodies may arrive out of order, so gaps are allowed.
    pub fn insert(&mut self, id: TaskId, task: T) {
        let slot = Self::slot(id);
        if slot >= self.slots.len() {
            self.slots.resize_with(slot + 1, || None);
        }
        if self.slots[slot].replace(Box::new(task)).is_none() {
            self.len += 1;
        }
    }

    pub fn get(&self, id: TaskId) -> Option<&T> {
        self.slots.get(Self::slot(id))?.as_deref()
    }

    pub fn get_mut(&mut self, id: TaskId) -> Option<&mut T> {
        self.slots.get_mut(Self::slot(id))?.as_deref_mut()
    }

    /// How many tasks were added.
    pub fn count(&self) -> usize {
        self.len
    }

    /// The ids of the tasks, in increasing order.
    pub fn ids(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_some())
            .map(|(i, _)| i as TaskId)
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten().map(|task| &**task)
    }

    /// The tasks, by increasing id.
    pub fn into_values(self) -> impl Iterator<Item = T> {
        self.slots.into_iter().flatten().map(|task| *task)
    }
}

impl<T> Index<TaskId> for TaskTable<T> {
    type Output = T;

    fn index(&self, id: TaskId) -> &T {
        self.get(id).expect("a known task")
    }
}

impl<T> IndexMut<TaskId> for TaskTable<T> {
    fn index_mut(&mut self, id: TaskId) -> &mut T {
        self.get_mut(id).expect("a known task")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_arriving_out_of_order_are_found_by_id() {
        let mut table = TaskTable::default();
        table.insert(3, "d");
        table.insert(0, "a");
        assert_eq!(table.count(), 2);
        assert_eq!(table.get(3), Some(&"d"));
        assert_eq!(table.get(1), None);
        assert_eq!(table.get(7), None);
        assert_eq!(table.ids().collect::<Vec<_>>(), vec![0, 3]);
        table[0] = "b";
        assert_eq!(table.values().copied().collect::<Vec<_>>(), vec!["b", "d"]);
    }
}
