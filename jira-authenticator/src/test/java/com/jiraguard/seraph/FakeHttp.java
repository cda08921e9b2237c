package com.jiraguard.seraph;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpSession;

/**
 * Hand-made request and session (dynamic proxies): only what the authenticator and the
 * stub superclass call is answered; anything else fails the test. Every change to the
 * session, and every session creation, is recorded.
 */
final class FakeHttp {
    final List<String> sessionWrites = new ArrayList<>();
    boolean sessionCreated;

    private final String method;
    private final String uri;
    private final String query;
    private final List<Vectors.Header> headers;
    private HttpSession session;
    private final Map<String, Object> attributes = new HashMap<>();

    FakeHttp(String method, String uri, String query, List<Vectors.Header> headers) {
        this.method = method;
        this.uri = uri;
        this.query = query;
        this.headers = headers;
    }

    static FakeHttp of(Vectors.Vector v) {
        return new FakeHttp(v.method, v.uri(), v.query(), v.headers);
    }

    /** An existing session in which Seraph's normal login put {@code username}. */
    FakeHttp withSessionUser(String username) {
        session = newSession();
        attributes.put("seraph_defaultauthenticator_user_id", username);
        return this;
    }

    HttpServletRequest request() {
        return proxy(HttpServletRequest.class, (self, m, args) -> {
            switch (m.getName()) {
                case "getMethod":
                    return method;
                case "getRequestURI":
                    return uri;
                case "getQueryString":
                    return query;
                case "getRemoteAddr":
                    return "192.0.2.10";
                case "getHeaders": {
                    List<String> values = new ArrayList<>();
                    for (Vectors.Header h : headers) {
                        if (h.name.equalsIgnoreCase((String) args[0])) {
                            values.add(h.value);
                        }
                    }
                    return Collections.enumeration(values);
                }
                case "getHeader":
                    for (Vectors.Header h : headers) {
                        if (h.name.equalsIgnoreCase((String) args[0])) {
                            return h.value;
                        }
                    }
                    return null;
                case "getSession": {
                    boolean create = args == null || (Boolean) args[0];
                    if (session == null && create) {
                        sessionCreated = true;
                        session = newSession();
                    }
                    return session;
                }
                default:
                    throw new UnsupportedOperationException("request." + m.getName());
            }
        });
    }

    private HttpSession newSession() {
        return proxy(HttpSession.class, (self, m, args) -> {
            switch (m.getName()) {
                case "getAttribute":
                    return attributes.get((String) args[0]);
                case "setAttribute":
                case "removeAttribute":
                case "invalidate":
                case "putValue":
                case "removeValue":
                    sessionWrites.add(m.getName() + (args == null ? "" : " " + args[0]));
                    return null;
                default:
                    throw new UnsupportedOperationException("session." + m.getName());
            }
        });
    }

    private interface Handler {
        Object handle(Object self, Method method, Object[] args) throws Throwable;
    }

    private static <T> T proxy(Class<T> type, Handler handler) {
        InvocationHandler h = (self, m, args) -> {
            if (m.getDeclaringClass() == Object.class) {
                switch (m.getName()) {
                    case "equals":
                        return self == args[0];
                    case "hashCode":
                        return System.identityHashCode(self);
                    default:
                        return "Fake" + type.getSimpleName();
                }
            }
            return handler.handle(self, m, args);
        };
        return type.cast(Proxy.newProxyInstance(FakeHttp.class.getClassLoader(), new Class<?>[] {type}, h));
    }
}
