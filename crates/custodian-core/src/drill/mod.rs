//! Drill material: synthetic keys and kits so every scenario can be
//! rehearsed without production keys. Everything made here is recorded in
//! the registry as drill material and named so it cannot be mistaken for a
//! real key.

pub mod card;
pub mod key;
pub mod kit_check;
pub mod run;
pub mod sandboxes;
