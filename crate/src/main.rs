//! `xray-lab`: the library's pipeline, in batch, from the command line (the commands are in
//! `cli/`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
