import org.springframework.security.oauth2.client.AuthorizedClientServiceOAuth2AuthorizedClientManager;
import org.springframework.security.oauth2.client.InMemoryOAuth2AuthorizedClientService;
import org.springframework.security.oauth2.client.OAuth2AuthorizeRequest;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClient;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientProviderBuilder;
import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.client.registration.InMemoryClientRegistrationRepository;
import org.springframework.security.oauth2.core.AuthorizationGrantType;

/**
 * Start to first token with Spring Security's client-credentials manager, the way its
 * reference documents it outside a web request (no Spring Boot context): an in-memory
 * registration, AuthorizedClientServiceOAuth2AuthorizedClientManager, the
 * clientCredentials() provider and its default token client (RestClient, HTTP Basic).
 * Usage: ColdSpring TOKEN_URL CLIENT_ID CLIENT_SECRET; prints its Report
 */
public final class ColdSpring {
    public static void main(String[] args) {
        long start = System.nanoTime();
        ClientRegistration registration = ClientRegistration.withRegistrationId("bench")
            .clientId(args[1])
            .clientSecret(args[2])
            .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
            .tokenUri(args[0])
            .build();
        var registrations = new InMemoryClientRegistrationRepository(registration);
        var manager = new AuthorizedClientServiceOAuth2AuthorizedClientManager(
            registrations, new InMemoryOAuth2AuthorizedClientService(registrations));
        manager.setAuthorizedClientProvider(OAuth2AuthorizedClientProviderBuilder.builder().clientCredentials().build());
        OAuth2AuthorizedClient client = manager.authorize(
            OAuth2AuthorizeRequest.withClientRegistrationId("bench").principal("bench").build());
        String token = client.getAccessToken().getTokenValue();
        Report.firstToken(start);
        if (token.isEmpty()) throw new IllegalStateException("no token");
    }
}
