package org.slf4j;

/** Stub of the SLF4J {@code Logger} methods the authenticator uses. */
public interface Logger {
    void info(String format, Object arg);

    void warn(String msg);

    void warn(String format, Object arg);

    void warn(String format, Object arg1, Object arg2);

    void error(String msg);
}
