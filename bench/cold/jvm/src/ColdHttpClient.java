import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The floor: one bare java.net.http.HttpClient POST of an RFC 6749 client-credentials
 * request (HTTP Basic, form body), the token cut out of the JSON with indexOf.
 * Usage: ColdHttpClient TOKEN_URL CLIENT_ID CLIENT_SECRET; prints its Report
 */
public final class ColdHttpClient {
    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        String basic = Base64.getEncoder().encodeToString((args[1] + ":" + args[2]).getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(URI.create(args[0]))
            .header("Authorization", "Basic " + basic)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
            .build();
        String body = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()).body();
        int key = body.indexOf("\"access_token\"");
        int from = body.indexOf('"', body.indexOf(':', key) + 1) + 1;
        String token = body.substring(from, body.indexOf('"', from));
        Report.firstToken(start);
        if (key < 0 || token.isEmpty()) throw new IllegalStateException("no token");
    }
}
