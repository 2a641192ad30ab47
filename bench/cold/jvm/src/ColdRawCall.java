import dev.tokenwell.ManualClock;
import dev.tokenwell.internal.ffi.CoreClient;

/**
 * The raw cost of a uniffi call through JNA, in one fresh JVM: the first call (the core
 * loads), then warm ns per call (median of 7 rounds after a JIT warm-up) of a trivial
 * export (ManualClock.nowMs(), a u64 from a handle) and of the core's lease
 * (CoreClient.leaseBlocking() on a cached token: what a call costs without the memo).
 * Usage: ColdRawCall BASE_URL CLIENT_ID CLIENT_SECRET; prints first_call_ms=…,
 * trivial_ns=…, lease_ns=…
 */
public final class ColdRawCall {
    static long sink;

    interface Call { long run() throws Exception; }

    static double nsPerCall(Call call, int calls) throws Exception {
        for (int i = 0; i < 3 * calls; i++) sink += call.run();
        double[] rounds = new double[7];
        for (int r = 0; r < rounds.length; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < calls; i++) sink += call.run();
            rounds[r] = (System.nanoTime() - start) / (double) calls;
        }
        java.util.Arrays.sort(rounds);
        return rounds[rounds.length / 2];
    }

    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        ManualClock clock = new ManualClock();
        sink += clock.nowMs();
        double firstMs = (System.nanoTime() - start) / 1e6;
        double trivial = nsPerCall(clock::nowMs, 20_000);
        // The core's own JSON (the binding writes the same from a TokenConfig).
        String json = String.format(
            "{\"provider\":\"deliveroo\",\"environment\":\"sandbox\",\"base_url\":\"%s\",\"client_id\":\"%s\",\"client_secret\":\"%s\"}",
            args[0], args[1], args[2]);
        byte[] utf8 = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer config = java.nio.ByteBuffer.allocateDirect(utf8.length).put(utf8);
        ((java.nio.Buffer) config).flip();
        try (CoreClient core = new CoreClient(config, null, null)) {
            core.leaseBlocking();
            double lease = nsPerCall(() -> core.leaseBlocking().getTokenType().length(), 5_000);
            System.out.printf("first_call_ms=%.2f%ntrivial_ns=%.0f%nlease_ns=%.0f%n", firstMs, trivial, lease);
        }
        clock.close();
    }
}
