// Input of test_rewrite_launches.py (the emulator's launch rewriter): launches
// among comments and literals that must stay as they are. Not compiled.
// A launch in a line comment: kernel<<<1, 1>>>(a);
#include <cstdio>

namespace demo {

template <typename T, int N>
struct Vec {};

template <typename T>
__global__ void scale_kernel(T* x, T a, int n) {
  extern __shared__ __align__(16) unsigned char smem[];
  /* extern __shared__ float not_this_one[]; */
  const char* s = "extern __shared__ float nor_this[];";
  (void)s;
}

template <typename V>
struct Outer {
  template <int K>
  static __global__ void inner_kernel(V v) {}
};

/* A launch in a block comment,
   scale_kernel<float><<<grid, block>>>(x, 2.0f, n);
   spanning lines. */
void run(float* x, int n, cudaStream_t stream) {
  const dim3 grid((n + 255) / 256), block(256);
  const char* msg = "not a launch: k<<<1, 1>>>(x) \" <<< )";
  const char* raw = R"tag(raw: k<<<2, 2>>>(y) )" ( ")tag";
  const char open = '(', close = ')';
  const int big = 1'000'000;
  scale_kernel<float><<<grid, block, 0, stream>>>(x, 2.0f, n);  // trailing <<< comment
  scale_kernel<<<grid, block>>>(x, /* a ) in a comment */ 0.5f,
                                n);
  Outer<Vec<float, 4>>::inner_kernel<3><<<dim3(1, 1), dim3(big / 1000, 1), 16 * sizeof(Vec<int, 2>), stream>>>(
      Vec<float, 4>{});
  scale_kernel<float> <<< grid , block >>> (x, float(open + close), std::printf("%s)\n", msg) + int(raw[0]));
}

}  // namespace demo
