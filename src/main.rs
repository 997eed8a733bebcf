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
