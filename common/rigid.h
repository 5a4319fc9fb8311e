/* rigid.h: random rigid motions. A uniformly random rotation comes from four standard normal
 * draws taken as a quaternion (scalar first) and normalised; OpenFold3 builds it this way both
 * for placing reference conformers (of3-featurize) and for the sampler's augmentation at every
 * diffusion step (of3-diffuse, on the host or in a CUDA kernel: hence inline, host and device
 * alike), with the matrix of rigid_utils.quat_to_rot. */
#ifndef OF3_RIGID_H
#define OF3_RIGID_H

#include <math.h>

#ifdef __CUDACC__
#define OF3_HOST_DEVICE __host__ __device__
#else
#define OF3_HOST_DEVICE
#endif

/* r = the rotation of q / |q| for q = (w, x, y, z), q != 0: x' = r x. */
static inline OF3_HOST_DEVICE void of3_quat_rotation(const double q[4], double r[3][3])
{
	const double n = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
	const double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
	r[0][0] = w * w + x * x - y * y - z * z;
	r[0][1] = 2 * (x * y - w * z);
	r[0][2] = 2 * (x * z + w * y);
	r[1][0] = 2 * (x * y + w * z);
	r[1][1] = w * w - x * x + y * y - z * z;
	r[1][2] = 2 * (y * z - w * x);
	r[2][0] = 2 * (x * z - w * y);
	r[2][1] = 2 * (y * z + w * x);
	r[2][2] = w * w - x * x - y * y + z * z;
}

#endif
