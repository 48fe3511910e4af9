"""The compiled part of nngraph: one optional C extension, ``nngraph._kernels`` (the training
step's fused update, see nngraph/_kernels.c). Everything else is in pyproject.toml.

Where no C compiler is available, the build skips the extension and nngraph runs its numpy
route, which gives the same results (see docs/design.md)."""
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildExt(build_ext):
    """Compiler flags by compiler: optimised, and never contracting a multiply and an add into
    one fused operation (which rounds once where numpy rounds twice, and would change results)."""

    def build_extensions(self):
        if self.compiler.compiler_type == "msvc":
            flags = ["/O2", "/fp:precise"]
        else:
            flags = ["-O3", "-ffp-contract=off", "-fno-math-errno"]
        for ext in self.extensions:
            ext.extra_compile_args = flags
        super().build_extensions()


setup(
    ext_modules=[Extension("nngraph._kernels", ["nngraph/_kernels.c"], optional=True)],
    cmdclass={"build_ext": BuildExt},
)
