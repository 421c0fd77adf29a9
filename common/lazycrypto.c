/* common/lazycrypto.c: the part of libcrypto's EVP API husk uses, with
 * libcrypto loaded on first use. husk is not linked against libcrypto:
 * mapping and relocating it costs every process ~1.8 MiB of RSS and
 * startup time, and only the image code needs it. These definitions have
 * the prototypes of <openssl/evp.h> (the compiler checks them) and forward
 * to the real functions; without libcrypto they fail the way the real ones
 * report errors (NULL or 0). A new EVP function needs a line here (the link
 * fails until then). */
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define LIBCRYPTO "libcrypto.so." STR(OPENSSL_SHLIB_VERSION)

static void *lookup(const char *name)
{
        static void *lib;
        if (!lib)
                lib = dlopen(LIBCRYPTO, RTLD_NOW | RTLD_LOCAL);
        return lib ? dlsym(lib, name) : NULL;
}

/* ret name params: resolved once, then called; fail when unavailable. */
#define LAZY(ret, name, params, args, fail)                                 \
        ret name params                                                     \
        {                                                                   \
                static ret (*fn) params;                                    \
                if (!fn)                                                    \
                        *(void **)&fn = lookup(#name);                      \
                return fn ? fn args : fail;                                 \
        }

LAZY(EVP_MD_CTX *, EVP_MD_CTX_new, (void), (), NULL)
LAZY(const EVP_MD *, EVP_sha256, (void), (), NULL)
LAZY(int, EVP_DigestInit_ex, (EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl), (ctx, type, impl), 0)
LAZY(int, EVP_DigestUpdate, (EVP_MD_CTX *ctx, const void *d, size_t cnt), (ctx, d, cnt), 0)
LAZY(int, EVP_DigestFinal_ex, (EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s), (ctx, md, s), 0)
LAZY(int, EVP_Digest, (const void *data, size_t count, unsigned char *md, unsigned int *size,
                       const EVP_MD *type, ENGINE *impl), (data, count, md, size, type, impl), 0)

void EVP_MD_CTX_free(EVP_MD_CTX *ctx)
{
        static void (*fn)(EVP_MD_CTX *);
        if (!fn)
                *(void **)&fn = lookup("EVP_MD_CTX_free");
        if (fn)
                fn(ctx);
}
