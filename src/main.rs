fn main() {
    std::process::exit(iam_auditor::cli::main());
}
