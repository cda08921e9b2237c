package com.atlassian.seraph.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Stub of Seraph's marker annotation: Seraph's login filter then reads the request's user
 * from the authentication context instead of asking the authenticator again.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface AuthenticationContextAwareAuthenticator {
}
