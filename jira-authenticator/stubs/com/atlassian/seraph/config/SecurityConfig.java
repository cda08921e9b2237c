package com.atlassian.seraph.config;

/** Stub of Seraph's {@code SecurityConfig}: the authenticator only passes it on. */
public interface SecurityConfig {
}
