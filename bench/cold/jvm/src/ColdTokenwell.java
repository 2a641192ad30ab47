import dev.tokenwell.TokenClient;
import dev.tokenwell.TokenConfig;

/**
 * Start to first token with tokenwell: one TokenConfig, one TokenClient, one blocking
 * token (the native core loads on the first client).
 * Usage: ColdTokenwell BASE_URL CLIENT_ID CLIENT_SECRET; prints its Report
 */
public final class ColdTokenwell {
    public static void main(String[] args) {
        long start = System.nanoTime();
        // provider, clientId, clientSecret, environment, region, baseUrl
        TokenConfig config = new TokenConfig("deliveroo", args[1], args[2], "sandbox", null, args[0]);
        try (TokenClient client = new TokenClient(config)) {
            String header = client.authorizationHeaderBlocking();
            Report.firstToken(start);
            if (!header.startsWith("Bearer ")) throw new IllegalStateException("no token");
        }
    }
}
