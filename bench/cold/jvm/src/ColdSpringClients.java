import java.util.ArrayList;
import java.util.List;
import org.springframework.security.oauth2.client.AuthorizedClientServiceOAuth2AuthorizedClientManager;
import org.springframework.security.oauth2.client.InMemoryOAuth2AuthorizedClientService;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientProviderBuilder;
import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.client.registration.InMemoryClientRegistrationRepository;
import org.springframework.security.oauth2.core.AuthorizationGrantType;

/**
 * The peer of ColdClients: 1,000 client registrations, one per merchant, and the one
 * manager Spring Security serves them all with (its multi-tenant shape). After one
 * registration and manager built (classes loaded), the same figures per client.
 * Usage: ColdSpringClients TOKEN_URL
 */
public final class ColdSpringClients {
    static final int N = 1_000;

    public static void main(String[] args) throws Exception {
        Object warm = manager(List.of(registration(args[0], -1)));
        Footprint before = Footprint.take();
        long start = System.nanoTime();
        List<ClientRegistration> registrations = new ArrayList<>(N);
        for (int i = 0; i < N; i++) registrations.add(registration(args[0], i));
        Object manager = manager(registrations);
        long elapsed = System.nanoTime() - start;
        Footprint after = Footprint.take();
        Footprint.print(elapsed, before, after, N);
        if (warm == manager) throw new IllegalStateException();
    }

    static ClientRegistration registration(String tokenUrl, int merchant) {
        return ClientRegistration.withRegistrationId("merchant-" + merchant)
            .clientId("merchant-" + merchant)
            .clientSecret("secret-" + merchant)
            .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
            .tokenUri(tokenUrl)
            .build();
    }

    static Object manager(List<ClientRegistration> registrations) {
        var repository = new InMemoryClientRegistrationRepository(registrations);
        var manager = new AuthorizedClientServiceOAuth2AuthorizedClientManager(
            repository, new InMemoryOAuth2AuthorizedClientService(repository));
        manager.setAuthorizedClientProvider(OAuth2AuthorizedClientProviderBuilder.builder().clientCredentials().build());
        return manager;
    }
}
