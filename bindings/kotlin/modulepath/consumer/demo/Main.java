package demo;

import dev.tokenwell.AccessToken;
import dev.tokenwell.TokenClient;

/** A Java application on the module path: one token from the config JSON in args[0]. */
public final class Main {
    public static void main(String[] args) throws Exception {
        try (TokenClient client = TokenClient.builderFromJson(args[0]).build()) {
            AccessToken token = client.tokenBlocking();
            System.out.println("token " + token.getTokenType() + " " + token.getAccessToken().length());
        }
    }
}
