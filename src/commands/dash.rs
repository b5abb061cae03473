//! `mam dash`: the live dashboard (the `dash` room runs it).

use anyhow::Result;

use crate::app::Ctx;

pub fn run(ctx: &Ctx) -> Result<()> {
    crate::dash::run(ctx)
}
