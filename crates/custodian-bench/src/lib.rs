//! Nothing but a home for the criterion benches of `custodian-core` (see
//! `benches/`): as dev-dependencies of a crate of their own, criterion and
//! its tree stay out of the core's test build, so the README's test command
//! (`scripts/test.sh`, which excludes this crate) does not compile them.
//! Run them with `cargo bench -p custodian-bench`; CI runs each once
//! (`.ci/run`, phase benches).
