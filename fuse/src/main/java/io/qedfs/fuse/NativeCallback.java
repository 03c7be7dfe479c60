package io.qedfs.fuse;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallContextCache;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Closure;
import com.kenai.jffi.ClosureManager;
import com.kenai.jffi.Type;
import java.lang.reflect.Method;

/**
 * A C function pointer that calls a Java method, made by jffi: a libffi trampoline that passes the C arguments
 * to the method as they are (an int as int, anything wider, pointers included, as long). This is what jnr-ffi's
 * closures come down to, without the class jnr-ffi generates with ASM for each callback type, which is
 * start-up time on the way to a ready mount (docs/fuse-notes.md, "Start-up").
 */
final class NativeCallback {
    private NativeCallback() {
    }

    /**
     * A function pointer whose calls run {@code target.method(...)}, the method taking int for each SINT or UINT
     * parameter and long for every other, and returning int for SINT. The pointer is valid for as long as
     * the returned handle is reachable: keep it as long as C code may call it.
     */
    static Closure.Handle to(Object target, String method, Type result, Type... params) {
        Class<?>[] javaTypes = new Class<?>[params.length];
        for (int i = 0; i < params.length; i++) {
            javaTypes[i] = params[i] == Type.SINT || params[i] == Type.UINT ? int.class : long.class;
        }
        Method m;
        try {
            m = target.getClass().getDeclaredMethod(method, javaTypes);
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException(target.getClass().getName() + " has no " + method + " for these arguments", e);
        }
        CallContext context = CallContextCache.getInstance().getCallContext(result, params, CallingConvention.DEFAULT, false);
        // a magazine holds many trampolines for one method; this one's first is all we need
        Closure.Handle handle = ClosureManager.getInstance().newClosureMagazine(context, m).allocate(target);
        if (handle == null) {
            throw new IllegalStateException("jffi could not make a callback for " + method);
        }
        return handle;
    }
}
