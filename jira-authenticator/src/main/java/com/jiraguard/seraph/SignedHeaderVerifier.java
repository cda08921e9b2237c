package com.jiraguard.seraph;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks a jiraguard gateway's signed identity headers. No servlet or Jira types, so it can
 * be tested on its own; {@link SignedHeaderAuthenticator} feeds it what the request carries.
 *
 * <p>The format is the one {@code jiraguard.auth.signed_identity} signs and verifies: the
 * signature is the lower-case hex HMAC-SHA256, keyed with the shared secret, of the UTF-8
 * bytes of {@code username + "\n" + METHOD + "\n" + requestTarget + "\n" + timestamp}. The
 * checks and their order are that module's too, so both sides accept exactly the same
 * requests: each header exactly once; the user header valid UTF-8 and not empty; the
 * timestamp ASCII digits only, at most 12 of them; the signature ASCII, compared after
 * trimming and lower-casing, in constant time; then the timestamp at most {@code maxAge}
 * from now in either direction.
 */
public final class SignedHeaderVerifier {
    /** Why a request's headers were not accepted. */
    public enum Refusal {
        /** None of the three headers is present: not a signed request at all. */
        ABSENT,
        /** Some header is missing, or present more than once (ambiguous). */
        MISSING_OR_REPEATED,
        /** A header is not well-formed (user not UTF-8 or empty, timestamp not digits...). */
        MALFORMED,
        /** The signature does not match what was received. */
        BAD_SIGNATURE,
        /** The timestamp is further than the allowed age from now (past or future). */
        EXPIRED
    }

    /** Either the verified username or the reason for refusing it. */
    public static final class Result {
        private final String username;
        private final Refusal refusal;

        private Result(String username, Refusal refusal) {
            this.username = username;
            this.refusal = refusal;
        }

        static Result accepted(String username) {
            return new Result(username, null);
        }

        static Result refused(Refusal refusal) {
            return new Result(null, refusal);
        }

        public boolean isAccepted() {
            return refusal == null;
        }

        /** The signed username (decoded from UTF-8), or null when refused. */
        public String username() {
            return username;
        }

        /** Why it was refused, or null when accepted. */
        public Refusal refusal() {
            return refusal;
        }

        @Override
        public String toString() {
            return isAccepted() ? "accepted(" + username + ")" : "refused(" + refusal + ")";
        }
    }

    private static final int MAX_TIMESTAMP_DIGITS = 12;
    private static final String HMAC = "HmacSHA256";

    private final SecretKeySpec key;
    private final long maxAgeMillis;

    /**
     * @param secret the shared secret (the gateway's {@code upstream.shared_secret}); its
     *     UTF-8 bytes are the HMAC key
     * @param maxAgeSeconds the largest accepted difference between the timestamp and now
     */
    public SignedHeaderVerifier(String secret, long maxAgeSeconds) {
        if (secret == null || secret.isEmpty()) {
            throw new IllegalArgumentException("the shared secret is empty");
        }
        if (maxAgeSeconds <= 0) {
            throw new IllegalArgumentException("the maximum age must be positive");
        }
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), HMAC);
        this.maxAgeMillis = Math.multiplyExact(maxAgeSeconds, 1000L);
    }

    /**
     * Verifies one request's headers.
     *
     * @param users every value of the user header, as the servlet container hands them over
     *     (each byte of the header as one ISO-8859-1 character)
     * @param timestamps every value of the timestamp header
     * @param signatures every value of the signature header
     * @param method the request method as received
     * @param requestTarget the path as received (context path included, percent-encoding
     *     kept), then {@code ?} and the query when there is one
     * @param nowMillis the current time, milliseconds since the epoch
     */
    public Result verify(List<String> users, List<String> timestamps, List<String> signatures, String method,
            String requestTarget, long nowMillis) {
        if (users.isEmpty() && timestamps.isEmpty() && signatures.isEmpty()) {
            return Result.refused(Refusal.ABSENT);
        }
        if (users.size() != 1 || timestamps.size() != 1 || signatures.size() != 1) {
            return Result.refused(Refusal.MISSING_OR_REPEATED);
        }
        String username = utf8FromLatin1(users.get(0));
        String timestamp = timestamps.get(0);
        String signature = signatures.get(0);
        if (username == null || username.isEmpty() || !isAscii(signature) || !isTimestamp(timestamp)) {
            return Result.refused(Refusal.MALFORMED);
        }
        byte[] expected = ascii(sign(username, method, requestTarget, timestamp));
        byte[] received = ascii(trim(signature).toLowerCase(Locale.ROOT));
        if (!MessageDigest.isEqual(expected, received)) {
            return Result.refused(Refusal.BAD_SIGNATURE);
        }
        long signedMillis = Long.parseLong(timestamp) * 1000L; // at most 12 digits: no overflow
        if (Math.abs(nowMillis - signedMillis) > maxAgeMillis) {
            return Result.refused(Refusal.EXPIRED);
        }
        return Result.accepted(username);
    }

    /** The string the signature covers: four lines joined by {@code \n}, no trailing newline. */
    public static String canonicalString(String username, String method, String requestTarget, String timestamp) {
        return username + "\n" + method + "\n" + requestTarget + "\n" + timestamp;
    }

    /** The lower-case hex HMAC-SHA256 of the UTF-8 canonical string, keyed with this secret. */
    String sign(String username, String method, String requestTarget, String timestamp) {
        byte[] message = canonicalString(username, method, requestTarget, timestamp).getBytes(StandardCharsets.UTF_8);
        byte[] digest;
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(key);
            digest = mac.doFinal(message);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
        char[] hex = new char[digest.length * 2];
        for (int i = 0; i < digest.length; i++) {
            hex[2 * i] = Character.forDigit((digest[i] >> 4) & 0xF, 16);
            hex[2 * i + 1] = Character.forDigit(digest[i] & 0xF, 16);
        }
        return new String(hex);
    }

    /**
     * The header's bytes (one per ISO-8859-1 character, as Tomcat decodes header values)
     * decoded as UTF-8, or null when they are not valid UTF-8 (or were not bytes at all).
     */
    static String utf8FromLatin1(String header) {
        byte[] bytes = new byte[header.length()];
        for (int i = 0; i < header.length(); i++) {
            char c = header.charAt(i);
            if (c > 0xFF) {
                return null;
            }
            bytes[i] = (byte) c;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** ASCII digits only (not other Unicode digits, no sign, no point), 1 to 12 of them. */
    private static boolean isTimestamp(String value) {
        if (value.isEmpty() || value.length() > MAX_TIMESTAMP_DIGITS) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static boolean isAscii(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) > 0x7F) {
                return false;
            }
        }
        return true;
    }

    /** Leading and trailing ASCII whitespace removed (the characters Python's str.strip() removes). */
    private static String trim(String value) {
        int start = 0;
        int end = value.length();
        while (start < end && isSpace(value.charAt(start))) {
            start++;
        }
        while (end > start && isSpace(value.charAt(end - 1))) {
            end--;
        }
        return value.substring(start, end);
    }

    private static boolean isSpace(char c) {
        return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    }

    private static byte[] ascii(String value) {
        return value.getBytes(StandardCharsets.US_ASCII);
    }
}
