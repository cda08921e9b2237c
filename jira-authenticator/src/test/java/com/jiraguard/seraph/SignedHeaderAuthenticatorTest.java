package com.jiraguard.seraph;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.servlet.http.HttpServletRequest;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;
import org.junit.runners.Parameterized.Parameters;

/** getUser with fake requests: every vector, then the session and configuration rules. */
@RunWith(Parameterized.class)
public class SignedHeaderAuthenticatorTest {
    static final String SESSION_USER = "session-user";

    /** A named Jira user. */
    static final class User implements Principal {
        private final String name;

        User(String name) {
            this.name = name;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public String toString() {
            return "User(" + name + ")";
        }
    }

    /** The authenticator with an in-memory user directory in place of Jira's user manager. */
    static final class Testable extends SignedHeaderAuthenticator {
        /** Null: every name exists. */
        Set<String> known;
        final Set<String> mayNotLogIn = new HashSet<>();
        final List<String> lookedUp = new ArrayList<>();
        boolean directoryFails;

        Testable(long nowSeconds) {
            super(() -> nowSeconds * 1000L);
        }

        @Override
        protected Principal getUser(String username) {
            lookedUp.add(username);
            if (directoryFails) {
                throw new IllegalStateException("directory down");
            }
            return known == null || known.contains(username) ? new User(username) : null;
        }

        @Override
        protected boolean isAuthorised(HttpServletRequest request, Principal principal) {
            return !mayNotLogIn.contains(principal.getName());
        }
    }

    static Map<String, String> params(String... pairs) {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return map;
    }

    static Testable configured(String... pairs) {
        Testable authenticator = new Testable(Vectors.NOW);
        Map<String, String> p = params(pairs);
        if (!p.containsKey("shared.secret") && !p.containsKey("shared.secret.file")) {
            p.put("shared.secret", Vectors.SECRET);
        }
        p.putIfAbsent("max.age.seconds", Long.toString(Vectors.MAX_AGE));
        authenticator.init(p, null);
        return authenticator;
    }

    static String name(Principal principal) {
        return principal == null ? null : principal.getName();
    }

    @Parameters(name = "{0}")
    public static Collection<Object[]> vectors() {
        return Vectors.parameters();
    }

    private final Vectors.Vector vector;

    public SignedHeaderAuthenticatorTest(Vectors.Vector vector) {
        this.vector = vector;
    }

    /** Valid: the header's user, though the session holds another. Else: the normal login's. */
    @Test
    public void withASessionOfAnotherUser() {
        FakeHttp http = FakeHttp.of(vector).withSessionUser(SESSION_USER);
        Principal user = configured().getUser(http.request(), null);
        assertEquals(vector.name, vector.accepted() ? vector.username() : SESSION_USER, name(user));
        assertEquals(vector.name, new ArrayList<String>(), http.sessionWrites);
        assertFalse(http.sessionCreated);
    }

    /** Valid: the header's user. Else: nobody (there is no other login). No session is created. */
    @Test
    public void withoutASession() {
        FakeHttp http = FakeHttp.of(vector);
        Principal user = configured().getUser(http.request(), null);
        assertEquals(vector.name, vector.accepted() ? vector.username() : null, name(user));
        assertFalse(vector.name + " created a session", http.sessionCreated);
        assertTrue(http.sessionWrites.isEmpty());
    }

    /** Rules that are not per vector. */
    public static class Rules {
        private static final Vectors.Vector VALID = Vectors.named("valid");
        private static final Vectors.Vector ZOE = Vectors.named("valid-utf8-zoe");
        private static final Vectors.Vector STALE = Vectors.named("stale");

        @Test
        public void theHeaderUserIsLookedUpInJiraAndReturned() {
            Testable authenticator = configured();
            Principal user = authenticator.getUser(FakeHttp.of(ZOE).withSessionUser("alice").request(), null);
            assertTrue(user instanceof User);
            assertEquals("zo\u00eb", user.getName());
            assertEquals(java.util.Collections.singletonList("zo\u00eb"), authenticator.lookedUp);
        }

        @Test
        public void aValidHeaderForAnUnknownUserGivesNoUserNotTheSessions() {
            Testable authenticator = configured();
            authenticator.known = new HashSet<>(java.util.Arrays.asList(SESSION_USER));
            FakeHttp http = FakeHttp.of(VALID).withSessionUser(SESSION_USER);
            assertNull(authenticator.getUser(http.request(), null));
            assertTrue(http.sessionWrites.isEmpty());
        }

        @Test
        public void aValidHeaderForAUserWhoMayNotLogInGivesNoUser() {
            Testable authenticator = configured();
            authenticator.mayNotLogIn.add("alice");
            FakeHttp http = FakeHttp.of(VALID).withSessionUser(SESSION_USER);
            assertNull(authenticator.getUser(http.request(), null));
        }

        @Test
        public void aFailingDirectoryGivesNoUser() {
            Testable authenticator = configured();
            authenticator.directoryFails = true;
            assertNull(authenticator.getUser(FakeHttp.of(VALID).withSessionUser(SESSION_USER).request(), null));
        }

        @Test
        public void aRefusedHeaderNeverLooksUpTheHeaderUser() {
            Testable authenticator = configured();
            Vectors.Vector tampered = Vectors.named("tampered-user");
            assertEquals(SESSION_USER,
                    name(authenticator.getUser(FakeHttp.of(tampered).withSessionUser(SESSION_USER).request(), null)));
            assertEquals(java.util.Collections.singletonList(SESSION_USER), authenticator.lookedUp);
        }

        @Test
        public void anEmptyQueryStringIsNoQuery() {
            // Tomcat gives "" for "/path?"; the gateway signs "/path" for an empty query
            FakeHttp http = new FakeHttp(VALID.method, VALID.uri(), "", VALID.headers);
            assertEquals("alice", name(configured().getUser(http.request(), null)));
        }

        @Test
        public void theQueryIsPartOfTheTarget() {
            Vectors.Vector search = Vectors.named("valid-query");
            FakeHttp http = new FakeHttp(search.method, search.uri(), null, search.headers);
            assertNull(name(configured().getUser(http.request(), null)));
        }

        @Test
        public void theSecretComesFromAFileTrimmed() throws IOException {
            File file = File.createTempFile("jiraguard-secret", ".txt");
            file.deleteOnExit();
            Files.write(file.toPath(), ("  " + Vectors.SECRET + "\n").getBytes(StandardCharsets.UTF_8));
            Testable authenticator = configured("shared.secret.file", file.getPath());
            assertEquals("alice", name(authenticator.getUser(FakeHttp.of(VALID).request(), null)));
        }

        @Test
        public void anotherSecretRefuses() {
            Testable authenticator = configured("shared.secret", "not-the-vectors-secret");
            assertEquals(SESSION_USER,
                    name(authenticator.getUser(FakeHttp.of(VALID).withSessionUser(SESSION_USER).request(), null)));
        }

        @Test
        public void maxAgeIsConfigurable() {
            assertNull(name(configured().getUser(FakeHttp.of(STALE).request(), null)));
            assertEquals("alice", name(configured("max.age.seconds", "120").getUser(FakeHttp.of(STALE).request(), null)));
        }

        @Test
        public void headerNamesAreConfigurable() {
            List<Vectors.Header> renamed = new ArrayList<>();
            for (Vectors.Header h : VALID.headers) {
                renamed.add(new Vectors.Header(h.name.replace("X-Forwarded-User", "X-Remote-User")
                        .replace("X-Jiraguard-", "X-Gw-"), h.value));
            }
            Testable authenticator = configured("user.header", "X-Remote-User", "timestamp.header", "X-Gw-Timestamp",
                    "signature.header", "X-Gw-Signature");
            FakeHttp http = new FakeHttp(VALID.method, VALID.uri(), VALID.query(), renamed);
            assertEquals("alice", name(authenticator.getUser(http.request(), null)));
            // and the default names are then ordinary headers
            assertNull(name(authenticator.getUser(FakeHttp.of(VALID).request(), null)));
        }

        @Test
        public void anUninitialisedAuthenticatorNeverTrustsTheHeaders() {
            Testable authenticator = new Testable(Vectors.NOW);
            assertEquals(SESSION_USER,
                    name(authenticator.getUser(FakeHttp.of(VALID).withSessionUser(SESSION_USER).request(), null)));
            assertNull(authenticator.getUser(FakeHttp.of(VALID).request(), null));
        }

        @Test
        public void initRefusesWithoutASecret() {
            expectFailure(IllegalStateException.class, params());
            expectFailure(IllegalStateException.class, params("shared.secret", "  "));
            expectFailure(IllegalStateException.class, params("shared.secret.file", "/nonexistent/jiraguard-secret"));
            expectFailure(IllegalArgumentException.class, params("shared.secret", "a", "shared.secret.file", "/x"));
        }

        @Test
        public void initRefusesAnEmptySecretFile() throws IOException {
            File file = File.createTempFile("jiraguard-secret", ".txt");
            file.deleteOnExit();
            Files.write(file.toPath(), "\n".getBytes(StandardCharsets.UTF_8));
            expectFailure(IllegalStateException.class, params("shared.secret.file", file.getPath()));
        }

        @Test
        public void initRefusesABadMaxAge() {
            expectFailure(IllegalArgumentException.class, params("shared.secret", "s", "max.age.seconds", "0"));
            expectFailure(IllegalArgumentException.class, params("shared.secret", "s", "max.age.seconds", "-5"));
            expectFailure(IllegalArgumentException.class, params("shared.secret", "s", "max.age.seconds", "1m"));
        }

        @Test
        public void seraphCanInstantiateIt() throws Exception {
            SignedHeaderAuthenticator a = SignedHeaderAuthenticator.class.getConstructor().newInstance();
            a.init(params("shared.secret", "s"), null);
            assertTrue(SignedHeaderAuthenticator.class.isAnnotationPresent(
                    com.atlassian.seraph.auth.AuthenticationContextAwareAuthenticator.class));
        }

        private static void expectFailure(Class<? extends RuntimeException> type, Map<String, String> p) {
            try {
                new Testable(Vectors.NOW).init(p, null);
            } catch (RuntimeException e) {
                if (!type.isInstance(e)) {
                    fail(p + ": expected " + type.getSimpleName() + ", got " + e);
                }
                return;
            }
            fail(p + ": init accepted it");
        }
    }
}
