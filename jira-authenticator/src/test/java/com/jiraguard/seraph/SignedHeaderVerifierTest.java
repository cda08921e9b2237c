package com.jiraguard.seraph;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.Collection;
import java.util.Collections;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;
import org.junit.runners.Parameterized.Parameters;

/** The verifier against every vector the Python signer produced, with the Python verifier's outcome. */
@RunWith(Parameterized.class)
public class SignedHeaderVerifierTest {
    @Parameters(name = "{0}")
    public static Collection<Object[]> vectors() {
        return Vectors.parameters();
    }

    private final Vectors.Vector vector;

    public SignedHeaderVerifierTest(Vectors.Vector vector) {
        this.vector = vector;
    }

    private SignedHeaderVerifier.Result verify(Vectors.Vector v) {
        SignedHeaderVerifier verifier = new SignedHeaderVerifier(Vectors.SECRET, Vectors.MAX_AGE);
        return verifier.verify(v.values(SignedHeaderAuthenticator.DEFAULT_USER_HEADER),
                v.values(SignedHeaderAuthenticator.DEFAULT_TIMESTAMP_HEADER),
                v.values(SignedHeaderAuthenticator.DEFAULT_SIGNATURE_HEADER), v.method, v.target,
                Vectors.NOW * 1000L);
    }

    @Test
    public void outcomeIsTheExpectedOne() {
        SignedHeaderVerifier.Result result = verify(vector);
        if (vector.accepted()) {
            assertTrue(vector.name + ": " + result, result.isAccepted());
            assertEquals(vector.username(), result.username());
            assertNull(result.refusal());
        } else {
            assertFalse(vector.name + " was accepted", result.isAccepted());
            assertNull(result.username());
            assertEquals(vector.name, vector.expect, result.refusal().name());
        }
    }

    @Test
    public void anyOtherSecretRefusesTheValidOnes() {
        if (!vector.accepted()) {
            return;
        }
        SignedHeaderVerifier other = new SignedHeaderVerifier(Vectors.SECRET + "x", Vectors.MAX_AGE);
        SignedHeaderVerifier.Result result = other.verify(vector.values("X-Forwarded-User"),
                vector.values("X-Jiraguard-Timestamp"), vector.values("X-Jiraguard-Signature"), vector.method,
                vector.target, Vectors.NOW * 1000L);
        assertEquals(SignedHeaderVerifier.Refusal.BAD_SIGNATURE, result.refusal());
    }

    /** Not per vector: the age limit and construction rules. */
    public static class Rules {
        private static final Vectors.Vector VALID = Vectors.named("valid");

        private static SignedHeaderVerifier.Result at(long nowMillis, long maxAge) {
            return new SignedHeaderVerifier(Vectors.SECRET, maxAge).verify(VALID.values("X-Forwarded-User"),
                    VALID.values("X-Jiraguard-Timestamp"), VALID.values("X-Jiraguard-Signature"), VALID.method,
                    VALID.target, nowMillis);
        }

        @Test
        public void ageIsMeasuredInMillisecondsBothWays() {
            long signed = Vectors.NOW * 1000L;
            assertTrue(at(signed + 60_000, 60).isAccepted());
            assertEquals(SignedHeaderVerifier.Refusal.EXPIRED, at(signed + 60_001, 60).refusal());
            assertTrue(at(signed - 60_000, 60).isAccepted());
            assertEquals(SignedHeaderVerifier.Refusal.EXPIRED, at(signed - 60_001, 60).refusal());
            assertTrue(at(signed + 300_000, 300).isAccepted());
        }

        @Test
        public void canonicalStringIsFourLinesWithoutTrailingNewline() {
            assertEquals("alice\nGET\n/jira/rest/api/2/search?jql=project%3DABC\n1764331200",
                    SignedHeaderVerifier.canonicalString("alice", "GET", "/jira/rest/api/2/search?jql=project%3DABC",
                            "1764331200"));
        }

        @Test(expected = IllegalArgumentException.class)
        public void emptySecretIsRejected() {
            new SignedHeaderVerifier("", 60);
        }

        @Test(expected = IllegalArgumentException.class)
        public void nullSecretIsRejected() {
            new SignedHeaderVerifier(null, 60);
        }

        @Test(expected = IllegalArgumentException.class)
        public void nonPositiveMaxAgeIsRejected() {
            new SignedHeaderVerifier(Vectors.SECRET, 0);
        }

        @Test
        public void aUserHeaderThatIsNotBytesIsMalformed() {
            SignedHeaderVerifier.Result result = new SignedHeaderVerifier(Vectors.SECRET, 60).verify(
                    Collections.singletonList("\u5c71"), VALID.values("X-Jiraguard-Timestamp"),
                    VALID.values("X-Jiraguard-Signature"), VALID.method, VALID.target, Vectors.NOW * 1000L);
            assertEquals(SignedHeaderVerifier.Refusal.MALFORMED, result.refusal());
        }
    }
}
