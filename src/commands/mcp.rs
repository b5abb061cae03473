//! `mam mcp`: serve mam's tools over MCP on stdio, as the agent mam started
//! (`MAM_AGENT`, `MAM_WORKSPACE`). The server owns the context for its life.

use anyhow::Result;

use crate::app::Ctx;

pub fn run(ctx: Ctx) -> Result<()> {
    crate::mcp::serve(ctx)
}
