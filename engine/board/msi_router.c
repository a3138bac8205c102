/* MSI routes on KVM. See msi_router.h. */
#include "msi_router.h"

#include <string.h>

#include "core/trace.h"

void msi_router_init(struct msi_router *router, struct vm *vm)
{
	memset(router, 0, sizeof(*router));
	router->vm = vm;
}

static int add_route(struct msi_router *router, unsigned vector, int eventfd, uint64_t address, uint32_t data)
{
	int gsi = vm_add_msi_route(router->vm, address, data);
	if (gsi < 0)
		return gsi;
	int err = vm_attach_irqfd(router->vm, eventfd, (unsigned)gsi);
	if (err < 0)
		return err;  /* the route stays unused: KVM's table has no removal short of a rewrite */
	router->gsi[vector] = gsi;
	return 0;
}

void msi_router_program(struct msi_router *router, unsigned vector, int eventfd, uint64_t address,
			uint32_t data)
{
	int err;
	if (vector >= MSIX_MAX_VECTORS)
		return;
	if (router->gsi[vector])
		err = vm_set_msi_route(router->vm, (unsigned)router->gsi[vector], address, data);
	else
		err = add_route(router, vector, eventfd, address, data);
	TRACE(TRACE_IRQ, "MSI vector %u -> GSI %d address 0x%llx data 0x%x%s", vector, router->gsi[vector],
	      (unsigned long long)address, data, err < 0 ? " failed" : "");
	if (err < 0)
		log_limited("cannot route MSI vector %u to address 0x%llx data 0x%x: %s; its interrupts are lost",
			    vector, (unsigned long long)address, data, g_strerror(-err));
}

static void vector_programmed(void *opaque, unsigned vector, int eventfd, uint64_t address, uint32_t data)
{
	msi_router_program(opaque, vector, eventfd, address, data);
}

const struct msix_route_ops msi_router_ops = { vector_programmed };
