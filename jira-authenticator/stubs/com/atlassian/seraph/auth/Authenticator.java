package com.atlassian.seraph.auth;

import com.atlassian.seraph.Initable;
import java.security.Principal;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/** Stub of Seraph's {@code Authenticator} interface. */
public interface Authenticator extends Initable {
    void destroy();

    String getRemoteUser(HttpServletRequest request);

    Principal getUser(HttpServletRequest request);

    Principal getUser(HttpServletRequest request, HttpServletResponse response);

    boolean login(HttpServletRequest request, HttpServletResponse response, String username, String password)
            throws AuthenticatorException;

    boolean login(HttpServletRequest request, HttpServletResponse response, String username, String password,
            boolean setRememberMeCookie) throws AuthenticatorException;

    boolean logout(HttpServletRequest request, HttpServletResponse response) throws AuthenticatorException;
}
