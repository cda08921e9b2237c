package com.jiraguard.seraph;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** The vectors vectors.py signed with jiraguard's Python signer (path in -Djiraguard.vectors). */
final class Vectors {
    static final class Header {
        final String name;
        final String value;

        Header(String name, String value) {
            this.name = name;
            this.value = value;
        }
    }

    static final class Vector {
        final String name;
        final String expect;
        final String method;
        final String target;
        final List<Header> headers;

        Vector(String name, String expect, String method, String target, List<Header> headers) {
            this.name = name;
            this.expect = expect;
            this.method = method;
            this.target = target;
            this.headers = headers;
        }

        boolean accepted() {
            return expect.startsWith("ok:");
        }

        String username() {
            return expect.substring("ok:".length());
        }

        List<String> values(String header) {
            List<String> values = new ArrayList<>();
            for (Header h : headers) {
                if (h.name.equalsIgnoreCase(header)) {
                    values.add(h.value);
                }
            }
            return values;
        }

        /** The request URI part of the target (what getRequestURI returns). */
        String uri() {
            int q = target.indexOf('?');
            return q < 0 ? target : target.substring(0, q);
        }

        /** The query part of the target, or null (what getQueryString returns). */
        String query() {
            int q = target.indexOf('?');
            return q < 0 ? null : target.substring(q + 1);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static final String SECRET;
    static final long NOW;
    static final long MAX_AGE;
    static final List<Vector> ALL = new ArrayList<>();

    static {
        String path = System.getProperty("jiraguard.vectors");
        if (path == null) {
            throw new IllegalStateException("-Djiraguard.vectors=<file written by vectors.py> is not set");
        }
        Properties p = new Properties();
        try (Reader in = new InputStreamReader(Files.newInputStream(Paths.get(path)), StandardCharsets.ISO_8859_1)) {
            p.load(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the vectors " + path, e);
        }
        SECRET = required(p, "secret");
        NOW = Long.parseLong(required(p, "now"));
        MAX_AGE = Long.parseLong(required(p, "max_age"));
        int count = Integer.parseInt(required(p, "count"));
        for (int i = 0; i < count; i++) {
            String prefix = "vector." + i + ".";
            List<Header> headers = new ArrayList<>();
            int n = Integer.parseInt(required(p, prefix + "headers"));
            for (int h = 0; h < n; h++) {
                headers.add(new Header(required(p, prefix + "header." + h + ".name"),
                        required(p, prefix + "header." + h + ".value")));
            }
            ALL.add(new Vector(required(p, prefix + "name"), required(p, prefix + "expect"),
                    required(p, prefix + "method"), required(p, prefix + "target"), headers));
        }
        if (ALL.isEmpty()) {
            throw new IllegalStateException("no vectors in " + path);
        }
    }

    static Vector named(String name) {
        for (Vector v : ALL) {
            if (v.name.equals(name)) {
                return v;
            }
        }
        throw new IllegalArgumentException("no vector " + name);
    }

    static List<Object[]> parameters() {
        List<Object[]> out = new ArrayList<>();
        for (Vector v : ALL) {
            out.add(new Object[] {v});
        }
        return out;
    }

    private static String required(Properties p, String key) {
        String value = p.getProperty(key);
        if (value == null) {
            throw new IllegalStateException("the vectors file has no " + key);
        }
        return value;
    }

    private Vectors() {
    }
}
