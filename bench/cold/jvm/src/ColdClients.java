import dev.tokenwell.TokenClient;
import dev.tokenwell.TokenConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The thousandth client: after one client (the core loaded), 1,000 more TokenClients,
 * one per set of credentials (a SaaS with one per merchant), kept alive. Prints per
 * client the time, the retained Java heap (after GC), the native heap (the core's
 * allocations) and the process RSS growth (see Footprint).
 * Usage: ColdClients BASE_URL
 */
public final class ColdClients {
    static final int N = 1_000;

    public static void main(String[] args) throws Exception {
        List<TokenClient> clients = new ArrayList<>(N + 1);
        clients.add(new TokenClient(config(args[0], -1)));
        Footprint before = Footprint.take();
        long start = System.nanoTime();
        for (int i = 0; i < N; i++) clients.add(new TokenClient(config(args[0], i)));
        long elapsed = System.nanoTime() - start;
        Footprint after = Footprint.take();
        Footprint.print(elapsed, before, after, N);
        for (TokenClient c : clients) c.close();
    }

    static TokenConfig config(String baseUrl, int merchant) {
        return new TokenConfig("deliveroo", "merchant-" + merchant, "secret-" + merchant, "sandbox", null, baseUrl);
    }
}
