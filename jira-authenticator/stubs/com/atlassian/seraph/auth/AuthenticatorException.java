package com.atlassian.seraph.auth;

/** Stub of Seraph's {@code AuthenticatorException}. */
public class AuthenticatorException extends Exception {
    public AuthenticatorException() {
    }

    public AuthenticatorException(String message) {
        super(message);
    }
}
