//! Built-in leaf actions. Each module registers its handlers; [`builtin`] gathers them.

mod assert;
mod basic;
mod db;
mod transform;

use testmesh_flow::ActionKind;

use crate::handler::Registry;

/// A registry with every built-in leaf action of this crate.
pub fn builtin() -> Registry {
    let mut registry = Registry::new();
    registry.register(ActionKind::Log, basic::Log);
    registry.register(ActionKind::Delay, basic::Delay);
    registry.register(ActionKind::Assert, assert::AssertAction);
    registry.register(ActionKind::Transform, transform::Transform);
    let pools = std::sync::Arc::new(db::Pools::default());
    registry.register(
        ActionKind::DatabaseQuery,
        db::DatabaseQuery::new(pools.clone()),
    );
    registry.register(ActionKind::DbPoll, db::DbPoll::new(pools));
    registry
}
