package com.atlassian.seraph.auth;

import java.security.Principal;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;

/**
 * Stub of Seraph's {@code DefaultAuthenticator}.
 *
 * <p>{@link #getUser(HttpServletRequest, HttpServletResponse)} models the real one's first
 * step only: the user named in an existing HTTP session, looked up with
 * {@link #getUser(String)} (the real one then tries the remember-me cookie and Basic
 * authentication). That is the "normal login" the tests expect a refused or absent signed
 * header to fall back to. {@link #putPrincipalInSessionContext} writes the same attributes
 * as the real one, so a test can tell whether anything was put in the session.
 */
public abstract class DefaultAuthenticator extends AbstractAuthenticator {
    public static final String LOGGED_IN_KEY = "seraph_defaultauthenticator_user";
    public static final String LOGGED_IN_USER_ID_KEY = "seraph_defaultauthenticator_user_id";
    public static final String LOGGED_OUT_KEY = "seraph_defaultauthenticator_logged_out_user";

    protected abstract Principal getUser(String username);

    protected abstract boolean authenticate(Principal user, String password) throws AuthenticatorException;

    @Override
    public Principal getUser(HttpServletRequest request, HttpServletResponse response) {
        HttpSession session = request.getSession(false);
        if (session != null) {
            return getUserFromSession(request);
        }
        return null;
    }

    protected Principal getUserFromSession(HttpServletRequest request) {
        HttpSession session = request.getSession(false);
        if (session == null || session.getAttribute(LOGGED_OUT_KEY) != null) {
            return null;
        }
        Object name = session.getAttribute(LOGGED_IN_USER_ID_KEY);
        return name instanceof String ? getUser((String) name) : null;
    }

    protected boolean isAuthorised(HttpServletRequest request, Principal principal) {
        return true;
    }

    protected boolean authoriseUserAndEstablishSession(HttpServletRequest request, HttpServletResponse response,
            Principal principal) {
        if (!isAuthorised(request, principal)) {
            return false;
        }
        putPrincipalInSessionContext(request, principal);
        return true;
    }

    protected void putPrincipalInSessionContext(HttpServletRequest request, Principal principal) {
        HttpSession session = request.getSession();
        session.setAttribute(LOGGED_IN_KEY, principal);
        session.setAttribute(LOGGED_IN_USER_ID_KEY, principal != null ? principal.getName() : null);
        session.setAttribute(LOGGED_OUT_KEY, null);
    }

    @Override
    public boolean login(HttpServletRequest request, HttpServletResponse response, String username, String password,
            boolean setRememberMeCookie) throws AuthenticatorException {
        throw new UnsupportedOperationException("stub");
    }

    @Override
    public boolean logout(HttpServletRequest request, HttpServletResponse response) throws AuthenticatorException {
        throw new UnsupportedOperationException("stub");
    }
}
