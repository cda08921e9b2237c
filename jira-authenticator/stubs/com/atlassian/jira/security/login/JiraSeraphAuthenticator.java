package com.atlassian.jira.security.login;

import com.atlassian.seraph.auth.AuthenticationContextAwareAuthenticator;
import com.atlassian.seraph.auth.AuthenticatorException;
import com.atlassian.seraph.auth.DefaultAuthenticator;
import java.security.Principal;

/**
 * Stub of Jira's {@code JiraSeraphAuthenticator}. The real one looks users up in Jira's user
 * manager and checks passwords with Crowd; here both are left to a subclass (the tests
 * override {@link #getUser(String)} with an in-memory directory).
 */
@AuthenticationContextAwareAuthenticator
public class JiraSeraphAuthenticator extends DefaultAuthenticator {
    @Override
    protected Principal getUser(String username) {
        throw new UnsupportedOperationException("stub: no Jira user manager");
    }

    @Override
    protected boolean authenticate(Principal user, String password) throws AuthenticatorException {
        throw new UnsupportedOperationException("stub: no Crowd");
    }
}
