package com.atlassian.seraph;

import com.atlassian.seraph.config.SecurityConfig;
import java.util.Map;

/** Stub of Seraph's {@code Initable}: Seraph calls {@code init} with the element's init-params. */
public interface Initable {
    void init(Map<String, String> params, SecurityConfig config);
}
