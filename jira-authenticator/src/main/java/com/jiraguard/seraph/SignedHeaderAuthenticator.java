package com.jiraguard.seraph;

import com.atlassian.jira.security.login.JiraSeraphAuthenticator;
import com.atlassian.seraph.auth.AuthenticationContextAwareAuthenticator;
import com.atlassian.seraph.config.SecurityConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jira's normal Seraph authenticator, plus the identity a jiraguard gateway signs
 * ({@code upstream.identity = "trusted_header"}).
 *
 * <p>Per request:
 * <ul>
 *   <li>No identity header at all: Jira's normal login (session, remember-me cookie, Basic).
 *   <li>Headers that verify ({@link SignedHeaderVerifier}): the user they name, for this
 *       request only. Nothing is written to the HTTP session, so the identity never outlives
 *       the headers, and a session that holds another user does not win over them. A user
 *       Jira does not know, or may not log in (inactive, no application access), gets no
 *       user at all: neither the header's name nor whoever the session holds.
 *   <li>Headers present but refused (bad signature, too old, repeated...): the header's user
 *       is ignored and Jira's normal login decides, as for a request without them.
 * </ul>
 *
 * <p>Configured with {@code init-param}s of the {@code <authenticator>} element in
 * {@code seraph-config.xml}: {@code shared.secret.file} (a file whose trimmed contents are
 * the secret; preferred) or {@code shared.secret}, {@code max.age.seconds} (60), and the
 * header names {@code user.header}, {@code timestamp.header}, {@code signature.header}. Without
 * a secret, {@link #init} throws: Jira does not start with a half-configured authenticator.
 */
@AuthenticationContextAwareAuthenticator
public class SignedHeaderAuthenticator extends JiraSeraphAuthenticator {
    private static final long serialVersionUID = 1L;
    private static final Logger log = LoggerFactory.getLogger(SignedHeaderAuthenticator.class);

    public static final String PARAM_SECRET = "shared.secret";
    public static final String PARAM_SECRET_FILE = "shared.secret.file";
    public static final String PARAM_MAX_AGE = "max.age.seconds";
    public static final String PARAM_USER_HEADER = "user.header";
    public static final String PARAM_TIMESTAMP_HEADER = "timestamp.header";
    public static final String PARAM_SIGNATURE_HEADER = "signature.header";

    public static final String DEFAULT_USER_HEADER = "X-Forwarded-User";
    public static final String DEFAULT_TIMESTAMP_HEADER = "X-Jiraguard-Timestamp";
    public static final String DEFAULT_SIGNATURE_HEADER = "X-Jiraguard-Signature";
    public static final long DEFAULT_MAX_AGE_SECONDS = 60;

    /** Milliseconds since the epoch; replaced in tests. */
    public interface Clock {
        long millis();
    }

    private final transient Clock clock;
    private transient SignedHeaderVerifier verifier; // null until init: then headers are never trusted
    private String userHeader = DEFAULT_USER_HEADER;
    private String timestampHeader = DEFAULT_TIMESTAMP_HEADER;
    private String signatureHeader = DEFAULT_SIGNATURE_HEADER;

    /** The constructor Seraph uses. */
    public SignedHeaderAuthenticator() {
        this(System::currentTimeMillis);
    }

    protected SignedHeaderAuthenticator(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void init(Map<String, String> params, SecurityConfig config) {
        super.init(params, config);
        Map<String, String> p = params != null ? params : Collections.<String, String>emptyMap();
        String secret = readSecret(p);
        long maxAge = DEFAULT_MAX_AGE_SECONDS;
        String maxAgeParam = param(p, PARAM_MAX_AGE);
        if (maxAgeParam != null) {
            try {
                maxAge = Long.parseLong(maxAgeParam);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(PARAM_MAX_AGE + " is not a whole number of seconds", e);
            }
            if (maxAge <= 0) {
                throw new IllegalArgumentException(PARAM_MAX_AGE + " must be positive");
            }
        }
        userHeader = headerName(p, PARAM_USER_HEADER, DEFAULT_USER_HEADER);
        timestampHeader = headerName(p, PARAM_TIMESTAMP_HEADER, DEFAULT_TIMESTAMP_HEADER);
        signatureHeader = headerName(p, PARAM_SIGNATURE_HEADER, DEFAULT_SIGNATURE_HEADER);
        verifier = new SignedHeaderVerifier(secret, maxAge);
        log.info("jiraguard signed identity headers accepted (user header {})", userHeader);
    }

    @Override
    public Principal getUser(HttpServletRequest request, HttpServletResponse response) {
        List<String> users = values(request, userHeader);
        List<String> timestamps = values(request, timestampHeader);
        List<String> signatures = values(request, signatureHeader);
        if (users.isEmpty() && timestamps.isEmpty() && signatures.isEmpty()) {
            return super.getUser(request, response);
        }
        SignedHeaderVerifier current = verifier;
        if (current == null) {
            log.error("jiraguard identity headers ignored: the authenticator was not initialised");
            return super.getUser(request, response);
        }
        SignedHeaderVerifier.Result result =
                current.verify(users, timestamps, signatures, request.getMethod(), requestTarget(request), now());
        if (!result.isAccepted()) {
            log.warn("jiraguard identity headers refused ({}) from {}; using the normal login",
                    result.refusal(), request.getRemoteAddr());
            return super.getUser(request, response);
        }
        Principal user;
        try {
            user = getUser(result.username());
        } catch (RuntimeException e) {
            log.warn("jiraguard signed user could not be looked up: {}", e.toString());
            return null;
        }
        if (user == null) {
            log.warn("jiraguard signed user is unknown to Jira (request from {})", request.getRemoteAddr());
            return null;
        }
        if (!isAuthorised(request, user)) {
            log.warn("jiraguard signed user may not log in to Jira (request from {})", request.getRemoteAddr());
            return null;
        }
        return user;
    }

    private long now() {
        return clock != null ? clock.millis() : System.currentTimeMillis();
    }

    /** The request-target the gateway signed: the path as received, then {@code ?query} if any. */
    static String requestTarget(HttpServletRequest request) {
        String uri = request.getRequestURI();
        String query = request.getQueryString();
        return query == null || query.isEmpty() ? uri : uri + "?" + query;
    }

    private static List<String> values(HttpServletRequest request, String name) {
        Enumeration<String> headers = request.getHeaders(name);
        if (headers == null) {
            return Collections.emptyList();
        }
        List<String> values = new ArrayList<String>();
        while (headers.hasMoreElements()) {
            values.add(headers.nextElement());
        }
        return values;
    }

    private static String readSecret(Map<String, String> params) {
        String inline = param(params, PARAM_SECRET);
        String file = param(params, PARAM_SECRET_FILE);
        if (inline != null && file != null) {
            throw new IllegalArgumentException("set " + PARAM_SECRET_FILE + " or " + PARAM_SECRET + ", not both");
        }
        String secret = inline;
        if (file != null) {
            try {
                secret = new String(Files.readAllBytes(Paths.get(file)), StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + PARAM_SECRET_FILE + " " + file + ": " + e, e);
            }
        }
        if (secret == null || secret.isEmpty()) {
            throw new IllegalStateException("no jiraguard shared secret: set the " + PARAM_SECRET_FILE
                    + " init-param (or " + PARAM_SECRET + ") of the authenticator in seraph-config.xml");
        }
        return secret;
    }

    private static String headerName(Map<String, String> params, String name, String fallback) {
        String value = param(params, name);
        return value != null ? value : fallback;
    }

    /** The trimmed init-param, or null when absent or blank. */
    private static String param(Map<String, String> params, String name) {
        String value = params.get(name);
        if (value == null) {
            return null;
        }
        value = value.trim();
        return value.isEmpty() ? null : value;
    }
}
