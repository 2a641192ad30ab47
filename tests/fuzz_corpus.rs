//! Replays the committed fuzz corpus (fuzz/corpus/parse_response/, minimised
//! with `cargo fuzz cmin`) through the same checks as the fuzz target, on
//! stable, in every `make test`: an input that once found a bug keeps proving
//! it fixed. Fuzzing itself (nightly, cargo-fuzz) runs outside CI: fuzz/README.md.

#[path = "../fuzz/input.rs"]
mod input;

#[test]
fn the_fuzz_corpus_replays_clean() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/parse_response");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the committed corpus")
        .map(|e| e.expect("a corpus entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 50,
        "the corpus has only {} inputs",
        files.len()
    );
    for file in &files {
        let data = std::fs::read(file).expect("a corpus file");
        let replay = std::panic::catch_unwind(|| input::check(&data));
        assert!(replay.is_ok(), "{} fails", file.display());
    }
    println!("{} corpus inputs replayed", files.len());
}
