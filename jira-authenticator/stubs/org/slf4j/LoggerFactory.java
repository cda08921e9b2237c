package org.slf4j;

/** Stub of SLF4J's {@code LoggerFactory}: prints to standard error ({} placeholders filled in). */
public final class LoggerFactory {
    private LoggerFactory() {
    }

    public static Logger getLogger(Class<?> clazz) {
        final String name = clazz.getName();
        return new Logger() {
            private void print(String level, String format, Object... args) {
                StringBuilder out = new StringBuilder();
                int from = 0;
                for (Object arg : args) {
                    int at = format.indexOf("{}", from);
                    if (at < 0) {
                        break;
                    }
                    out.append(format, from, at).append(arg);
                    from = at + 2;
                }
                out.append(format.substring(from));
                System.err.println(level + " " + name + " - " + out);
            }

            @Override
            public void info(String format, Object arg) {
                print("INFO", format, arg);
            }

            @Override
            public void warn(String msg) {
                print("WARN", msg);
            }

            @Override
            public void warn(String format, Object arg) {
                print("WARN", format, arg);
            }

            @Override
            public void warn(String format, Object arg1, Object arg2) {
                print("WARN", format, arg1, arg2);
            }

            @Override
            public void error(String msg) {
                print("ERROR", msg);
            }
        };
    }
}
