/* rigid.c: rotations from quaternions (rigid.h). */
#include "rigid.h"

#include <math.h>

void of3_quat_rotation(const double q[4], double r[3][3])
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
