//! `mam completions` and `mam man`: generated from the clap definition.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};

pub fn completions(args: &CompletionsArgs) -> Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "mam", &mut std::io::stdout());
    Ok(())
}

pub fn man(args: &ManArgs) -> Result<()> {
    let cmd = Cli::command();
    match &args.out_dir {
        None => {
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .context("cannot render the man page")?;
        }
        Some(dir) => write_man_pages(dir)?,
    }
    Ok(())
}

/// Write `mam.1` and one `mam-<sub>.1` per subcommand into `dir`.
pub fn write_man_pages(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cmd = Cli::command();
    let write = |name: &str, c: clap::Command| -> Result<()> {
        let path = dir.join(format!("{name}.1"));
        let mut buf = Vec::new();
        clap_mangen::Man::new(c).render(&mut buf)?;
        std::fs::write(&path, buf).with_context(|| format!("cannot write {}", path.display()))
    };
    write("mam", cmd.clone())?;
    for sub in cmd.get_subcommands() {
        let name: &'static str = Box::leak(format!("mam-{}", sub.get_name()).into_boxed_str());
        write(name, sub.clone().name(name))?;
    }
    Ok(())
}
