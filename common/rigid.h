/* rigid.h: random rigid motions. A uniformly random rotation comes from four standard normal
 * draws taken as a quaternion (scalar first) and normalised; OpenFold3 builds it this way both
 * for placing reference conformers (of3-featurize) and for the sampler's augmentation at every
 * diffusion step (of3-diffuse), with the matrix of rigid_utils.quat_to_rot. */
#ifndef OF3_RIGID_H
#define OF3_RIGID_H

/* r = the rotation of q / |q| for q = (w, x, y, z), q != 0: x' = r x. */
void of3_quat_rotation(const double q[4], double r[3][3]);

#endif
