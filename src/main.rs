/// mimalloc rather than glibc's malloc: glibc's free lists fragmented as what the run keeps
/// of each account landed among each account's transient allocations, and malloc took a
/// quarter to a third of the CPU at 1,000 to 10,000 accounts. With mimalloc 10,000 accounts
/// take 130 s instead of 201 s, at about 185 MiB resident at 1,000 accounts and 245 MiB at
/// 10,000 (glibc: 100 and 165 MiB); bench/README.md, "mimalloc".
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // A panic is a bug in iam-auditor, never the user's input: say so, and exit 1 (fatal)
    // so schedulers alarm as for any other fatal error.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "iam-auditor: internal error (a bug, not a problem with your input): {info}\n\
             Please report it with the command line you ran; no report files from this run should be trusted."
        );
    }));
    let entry = if iam_auditor::lambda::started_by_lambda() {
        iam_auditor::lambda::main
    } else {
        iam_auditor::cli::main
    };
    let code = std::panic::catch_unwind(entry).unwrap_or(1);
    std::process::exit(code);
}
