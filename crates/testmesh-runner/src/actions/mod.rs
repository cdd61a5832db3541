//! Built-in leaf actions. Each module registers its handlers; [`builtin`] gathers them.

mod assert;
mod basic;
mod db;
mod http;
mod transform;
mod wait_for;

use std::sync::Arc;

use testmesh_flow::ActionKind;

use crate::handler::Registry;

/// A registry with every built-in leaf action of this crate.
pub fn builtin() -> Registry {
    let mut registry = Registry::new();
    registry.register(ActionKind::Log, basic::Log);
    registry.register(ActionKind::Delay, basic::Delay);
    registry.register(ActionKind::Assert, assert::AssertAction);
    registry.register(ActionKind::Transform, transform::Transform);
    // One transport for every HTTP-speaking action, so they share connection pools.
    let transport = Arc::new(http::Transport::default());
    registry.register(
        ActionKind::HttpRequest,
        http::HttpRequest::new(transport.clone()),
    );
    registry.register(ActionKind::WaitFor, wait_for::WaitFor::new(transport));
    // One pool cache for both database actions, shared across steps and flows.
    let pools = Arc::new(db::Pools::default());
    registry.register(
        ActionKind::DatabaseQuery,
        db::DatabaseQuery::new(pools.clone()),
    );
    registry.register(ActionKind::DbPoll, db::DbPoll::new(pools));
    registry
}
