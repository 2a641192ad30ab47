import java.time.Instant;

/** The figures of a first-token main, printed once the token is in hand. */
final class Report {
    /**
     * first_token_ms: from main's first line (System.nanoTime() at [start]);
     * launch_to_token_ms: from the driver's launch of the JVM (TOKENWELL_BENCH_LAUNCH_NS,
     * wall-clock ns taken just before exec), so JVM boot counts and JVM exit does not.
     */
    static void firstToken(long start) {
        long elapsed = System.nanoTime() - start;
        Instant now = Instant.now();
        System.out.printf("first_token_ms=%.2f%n", elapsed / 1e6);
        String launch = System.getenv("TOKENWELL_BENCH_LAUNCH_NS");
        if (launch != null) {
            long nowNs = now.getEpochSecond() * 1_000_000_000L + now.getNano();
            System.out.printf("launch_to_token_ms=%.2f%n", (nowNs - Long.parseLong(launch)) / 1e6);
        }
    }
}
